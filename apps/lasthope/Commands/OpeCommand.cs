using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Core.Storage;
using Lasthope.Server.Hosting;
using Lasthope.Training;
using Lasthope.Trees;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope ope</c>: a target policy's CTR estimated from a surface's logged propensities
/// (<see cref="LoggedPolicyEstimates"/>), by IPS, self-normalised IPS and doubly robust, each with a bootstrap
/// interval, beside the effective sample size and what the log itself shows.
/// </summary>
internal static class OpeCommand
{
    public static Command Create(CliContext context)
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var surface = new Option<string>("--surface") { Description = "The surface whose log is read (an imported log's surface: open-bandit, import).", Required = true };
        var policy = new Option<string>("--policy")
        {
            Description = "The policy to estimate: uniform (every request explored over the pool), unexplored (no request explored), heuristic or model (re-ranking the logged top of explored requests, against --against).",
            Required = true,
        };
        policy.AcceptOnlyFromAmong("uniform", "unexplored", "heuristic", "model");
        var model = new Option<string?>("--model") { Description = "For --policy model: a model file (LightGBM text, XGBoost JSON) or a registered version." };
        var against = new Option<string>("--against") { Description = "For heuristic and model: the baseline, heuristic, unexplored, active (the surface's active model), a model file or a registered version.", DefaultValueFactory = _ => "heuristic" };
        var pool = new Option<int?>("--pool") { Description = "For uniform on a log that names no pool (an imported bandit log): how many items it draws from." };
        var days = new Option<double>("--days") { Description = "Read the last N days before the surface's newest ranking (0: all of it).", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Also write the estimate as JSON to FILE ('-' for standard output)." };
        var command = new Command("ope", "Estimate a policy's CTR off-policy from the logged propensities: IPS, SNIPS and DR with bootstrap intervals and the effective sample size.")
        {
            data, config, surface, policy, model, against, pool, days, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(days) is var window && !(window >= 0 && window <= 3650))
            {
                return context.Fail(ExitCodes.BadInput, "--days must be 0 to 3650.");
            }

            if (parse.GetValue(pool) is < 2 or > 1_000_000)
            {
                return context.Fail(ExitCodes.BadInput, "--pool must be 2 to 1,000,000.");
            }

            try
            {
                var options = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
                await using var store = await CliStores.OpenAsync(options, cancellationToken);
                var name = parse.GetValue(surface)!;
                var since = DateTimeOffset.MinValue;
                if (window > 0 && await LogWindow.NewestRankingAsync(store, name, cancellationToken) is { } newest)
                {
                    since = newest - TimeSpan.FromDays(window);
                }

                var target = parse.GetValue(policy)!;
                if (target is "heuristic" or "model")
                {
                    var candidate = target == "heuristic" ? RerankPolicy.Heuristic : await PolicyAsync(store, name, parse.GetValue(model) ?? throw new ArgumentException("--model: --policy model needs a model file or a registered version"), cancellationToken);
                    var baseline = await PolicyAsync(store, name, parse.GetValue(against)!, cancellationToken);
                    var compared = await new RerankPolicyEstimates(store).CompareAsync(new RerankEstimateRequest { Surface = name, Candidate = candidate, Baseline = baseline, Since = since }, cancellationToken);
                    RankerTrainingOptions.PrintOffPolicy(context, compared);
                    if (parse.GetValue(json) is { } file)
                    {
                        await context.WriteJsonAsync(file, JsonSerializer.Serialize(compared, ReportJson.Default.RerankEstimateReport), cancellationToken);
                    }

                    return ExitCodes.Ok;
                }

                var report = await new LoggedPolicyEstimates(store).EstimateAsync(
                    new PolicyEstimateRequest { Surface = name, Policy = Enum.Parse<TargetPolicy>(target, ignoreCase: true), Pool = parse.GetValue(pool), Since = since },
                    cancellationToken);
                Print(context, report);
                if (parse.GetValue(json) is { } path)
                {
                    await context.WriteJsonAsync(path, JsonSerializer.Serialize(report, ReportJson.Default.PolicyEstimateReport), cancellationToken);
                }

                return ExitCodes.Ok;
            }
            catch (PolicyEstimateException e)
            {
                return context.Fail(ExitCodes.NotFound, e.Message);
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (ModelLoadException e)
            {
                return context.Fail(ExitCodes.BadInput, $"--model: {e.Message}");
            }
            catch (StoreUnavailableException e)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }
        });
        return command;
    }

    /// <summary>
    /// A re-ranking policy by name: heuristic, unexplored, active (the surface's active model), a model file, or a
    /// registered version.
    /// </summary>
    private static async Task<RerankPolicy> PolicyAsync(IEventStore store, string surface, string name, CancellationToken cancellationToken)
    {
        switch (name)
        {
            case "heuristic":
                return RerankPolicy.Heuristic;
            case "unexplored":
                return RerankPolicy.Unexplored;
        }

        var models = StoreSelection.ModelStoreOf(store);
        if (name == "active")
        {
            name = (await models.GetActiveModelsAsync(cancellationToken)).GetValueOrDefault(surface)
                ?? throw new ArgumentException($"--against: surface '{surface}' has no active model");
        }

        if (File.Exists(name))
        {
            return RerankPolicy.Model(TreeModel.Parse(await File.ReadAllBytesAsync(name, cancellationToken)), Path.GetFileName(name));
        }

        return await models.FindModelAsync(name, cancellationToken) is { Kind: not "als" } record
            ? RerankPolicy.Model(TreeModel.Parse(record.Content), record.Version)
            : throw new ArgumentException($"'{name}' is neither heuristic, unexplored, active, a model file nor a registered re-ranker's version");
    }

    private static void Print(CliContext context, PolicyEstimateReport report)
    {
        var e = report.Estimate;
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{report.Policy.ToString().ToLowerInvariant()} on {report.Surface}: {e.Decisions:N0} impressions of {report.Rankings - report.RankingsSkipped:N0} rankings"))
            .AddColumns("estimator", "CTR", "95% interval");
        foreach (var estimate in e.All)
        {
            table.AddRow(estimate.Estimator, Percent(estimate.Value.Estimate), Markup.Escape($"[{Percent(estimate.Value.Lower)}, {Percent(estimate.Value.Upper)}]"));
        }

        context.Console.Write(table);
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"effective sample size {e.EffectiveSampleSize:N0} of {e.Decisions:N0}; largest weight {e.MaxWeight:G4}"));
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the log's own CTR {Percent(report.LoggedCtr)}; explored requests {Optional(report.ExploredCtr)} ({report.ExploredImpressions:N0} impressions), unexplored {Optional(report.UnexploredCtr)} ({report.UnexploredImpressions:N0})"));
        if (report.RankingsSkipped > 0)
        {
            context.Error.WriteLine($"{report.RankingsSkipped:N0} rankings could not be evaluated under this policy and were left out.");
        }
    }

    private static string Percent(double value) => (value * 100).ToString("F3", CultureInfo.InvariantCulture) + "%";

    private static string Optional(double? value) => value is { } v ? Percent(v) : "-";
}
