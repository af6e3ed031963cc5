using System.CommandLine;
using System.Globalization;
using Lasthope.Server.Configuration;
using Lasthope.Training;
using Lasthope.Trees.Native;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>What a re-ranker is trained on and how: the options <c>train-ranker</c> and <c>retrain</c> share.</summary>
internal sealed class RankerTrainingOptions
{
    public Option<string> Surface { get; } = new("--surface") { Description = "The surface whose logged rankings are the training data.", DefaultValueFactory = _ => "default" };

    public Option<double> Days { get; } = new("--days") { Description = "Train on the last N days of the log (event time, up to its newest ranking).", DefaultValueFactory = _ => 30 };

    public Option<double> ValidFraction { get; } = new("--valid-fraction") { Description = "The latest share of queries, held out for validation and the comparisons.", DefaultValueFactory = _ => 0.2 };

    public Option<int> Trees { get; } = new("--trees") { Description = "Boosting iterations (trees).", DefaultValueFactory = _ => 500 };

    public Option<int> Leaves { get; } = new("--num-leaves") { Description = "Leaves per tree.", DefaultValueFactory = _ => 63 };

    public Option<double> LearningRate { get; } = new("--learning-rate") { Description = "Shrinkage.", DefaultValueFactory = _ => 0.05 };

    public Option<int> MinData { get; } = new("--min-data-in-leaf") { Description = "Minimum rows per leaf.", DefaultValueFactory = _ => 20 };

    public Option<int> Threads { get; } = new("--threads") { Description = "Training threads.", DefaultValueFactory = _ => Environment.ProcessorCount };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed.", DefaultValueFactory = _ => 42 };

    public Option<int> Bags { get; } = new("--bags") { Description = "Average this many models, each on a bootstrap sample of the training queries (a bagged ensemble; that many times as costly to score).", DefaultValueFactory = _ => 1 };

    public Option<bool> NoPositions { get; } = new("--no-positions") { Description = "Do not correct for position bias (LightGBM's position field)." };

    public Option<TrainingTraffic> Traffic { get; } = new("--traffic") { Description = "Which rankings to learn from: auto (explored ones when at least 20 have clicks, else all), explored, all.", DefaultValueFactory = _ => TrainingTraffic.Auto };

    public Option<string?> Features { get; } = new("--features") { Description = "The columns to train on, comma-separated (default: every built-in feature and the surface's request features)." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Surface, Days, ValidFraction, Trees, Leaves, LearningRate, MinData, Threads, Seed, Bags, NoPositions, Traffic, Features })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The request, or the message that says which value is out of range.</summary>
    public bool TryRequest(ParseResult parse, out RankerTrainingRequest request, out string? error)
    {
        var fraction = parse.GetValue(ValidFraction);
        request = new RankerTrainingRequest
        {
            Surface = parse.GetValue(Surface)!,
            Features = parse.GetValue(Features)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Days = parse.GetValue(Days),
            ValidFraction = fraction,
            Trees = parse.GetValue(Trees),
            Leaves = parse.GetValue(Leaves),
            LearningRate = parse.GetValue(LearningRate),
            MinDataInLeaf = parse.GetValue(MinData),
            Threads = parse.GetValue(Threads),
            Seed = parse.GetValue(Seed),
            Bags = parse.GetValue(Bags),
            UsePositions = !parse.GetValue(NoPositions),
            Traffic = parse.GetValue(Traffic),
        };
        error = fraction is <= 0 or >= 1 || request.Trees < 1 || request.Leaves < 2 || request.Days <= 0 || request.Bags is < 1 or > 100
            ? "--valid-fraction must be in (0, 1), --trees >= 1, --num-leaves >= 2, --days > 0, --bags 1 to 100"
            : null;
        return error is null;
    }

    /// <summary>Runs <paramref name="train"/> under a progress bar of its trees.</summary>
    public static async Task<T> WithProgressAsync<T>(CliContext context, int trees, Func<Action<TrainingProgress>, Task<T>> train)
    {
        T result = default!;
        await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("Training", maxValue: trees);
                result = await train(p =>
                {
                    task.Value = p.Iteration;
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"Training: validation NDCG@10 {p.Metric("ndcg@10") ?? double.NaN:F4}");
                });
            });
        return result;
    }

    /// <summary>Prints an off-policy comparison of two re-ranking policies: each one's CTR and the paired difference, by estimator.</summary>
    public static void PrintOffPolicy(CliContext context, RerankEstimateReport report)
    {
        var c = report.Comparison;
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"off-policy CTR on {c.Candidate.Decisions:N0} explored impressions of {report.Rankings - report.RankingsSkipped:N0} rankings (top {report.Depth} re-ranked)")))
            .AddColumns("estimator", Markup.Escape(report.Candidate), Markup.Escape(report.Baseline), Markup.Escape($"{report.Candidate} - {report.Baseline}"));
        var candidate = c.Candidate.All;
        var baseline = c.Baseline.All;
        for (var i = 0; i < candidate.Count; i++)
        {
            var d = c.Difference[i].Value;
            table.AddRow(candidate[i].Estimator, Markup.Escape(Percent(candidate[i].Value)), Markup.Escape(Percent(baseline[i].Value)), Markup.Escape(Points(d)));
        }

        context.Console.Write(table);
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"effective sample size {c.Candidate.EffectiveSampleSize:N0} ({report.Candidate}), {c.Baseline.EffectiveSampleSize:N0} ({report.Baseline}); the explored requests' own CTR {report.ExploredCtr * 100:F3}%"));
        if (report.RankingsSkipped > 0)
        {
            context.Error.WriteLine($"{report.RankingsSkipped:N0} explored rankings logged fewer rows than they showed (Exploration:LogTop) and were left out.");
        }
    }

    private static string Percent(Evaluation.Interval i) => string.Create(CultureInfo.InvariantCulture, $"{i.Estimate * 100:F3}% [{i.Lower * 100:F3}, {i.Upper * 100:F3}]");

    private static string Points(Evaluation.Interval i) => string.Create(CultureInfo.InvariantCulture, $"{i.Estimate * 100:+0.000;-0.000} [{i.Lower * 100:+0.000;-0.000}, {i.Upper * 100:+0.000;-0.000}] points");
}
