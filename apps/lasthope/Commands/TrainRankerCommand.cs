using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Core.Storage;
using Lasthope.Evaluation;
using Lasthope.Server.Cascade;
using Lasthope.Server.Hosting;
using Lasthope.Server.Models;
using Lasthope.Server.Training;
using Lasthope.Trees;
using Lasthope.Trees.Native;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;
using Lasthope.Server.State;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope train-ranker</c>: trains a LambdaMART re-ranker from the features Lasthope logged while serving, and the
/// clicks attributed to those rankings; compares it on a later validation window with the heuristic it would replace,
/// with bootstrap intervals; writes the model, and optionally registers and activates it.
/// </summary>
internal static class TrainRankerCommand
{
    public static Command Create(CliContext context)
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var surface = new Option<string>("--surface") { Description = "The surface whose logged rankings are the training data.", DefaultValueFactory = _ => "default" };
        var output = new Option<string>("--out", "-o") { Description = "Where to write the model (LightGBM text).", Required = true };
        var days = new Option<double>("--days") { Description = "Train on the last N days of the log (event time, up to its newest ranking).", DefaultValueFactory = _ => 30 };
        var validFraction = new Option<double>("--valid-fraction") { Description = "The latest share of queries, held out for validation and the comparison with the heuristic.", DefaultValueFactory = _ => 0.2 };
        var trees = new Option<int>("--trees") { Description = "Boosting iterations (trees).", DefaultValueFactory = _ => 500 };
        var leaves = new Option<int>("--num-leaves") { Description = "Leaves per tree.", DefaultValueFactory = _ => 63 };
        var learningRate = new Option<double>("--learning-rate") { Description = "Shrinkage.", DefaultValueFactory = _ => 0.05 };
        var minData = new Option<int>("--min-data-in-leaf") { Description = "Minimum rows per leaf.", DefaultValueFactory = _ => 20 };
        var threads = new Option<int>("--threads") { Description = "Training threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 42 };
        var noPositions = new Option<bool>("--no-positions") { Description = "Do not correct for position bias (LightGBM's position field)." };
        var register = new Option<bool>("--register") { Description = "Register the model in the store for the surface." };
        var activate = new Option<bool>("--activate") { Description = "Register and activate it (the server loads it at its next start)." };
        var featureList = new Option<string?>("--features") { Description = "The columns to train on, comma-separated (default: every built-in feature and the surface's request features)." };
        var command = new Command("train-ranker", "Train a LambdaMART re-ranker (LightGBM) from the features logged while serving; compare it with the heuristic on a later window.")
        {
            data, config, surface, output, days, validFraction, trees, leaves, learningRate, minData, threads, seed, noPositions, register, activate, featureList,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var fraction = parse.GetValue(validFraction);
            if (fraction is <= 0 or >= 1 || parse.GetValue(trees) < 1 || parse.GetValue(leaves) < 2 || parse.GetValue(days) <= 0)
            {
                return context.Fail(ExitCodes.BadInput, "--valid-fraction must be in (0, 1), --trees >= 1, --num-leaves >= 2, --days > 0");
            }

            try
            {
                var options = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
                await using var store = await CliStores.OpenAsync(options, cancellationToken);
                var name = parse.GetValue(surface)!;
                var available = BuiltInFeatures.Names.Concat(options.Serving.Surface(name).RequestFeatures).ToArray();
                var features = parse.GetValue(featureList) is { } list
                    ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : available;
                if (features.FirstOrDefault(f => !available.Contains(f, StringComparer.Ordinal)) is { } unknownFeature)
                {
                    return context.Fail(ExitCodes.BadInput, $"--features: '{unknownFeature}' is not a feature of surface '{name}'; available: {string.Join(", ", available)}");
                }
                var newest = await NewestRankingAsync(store, name, cancellationToken);
                if (newest is null)
                {
                    return context.Fail(ExitCodes.NotFound, $"the store has no rankings of surface '{name}'");
                }

                var since = newest.Value - TimeSpan.FromDays(parse.GetValue(days));
                var logged = await LoggedTrainingData.ReadAsync(store, name, features, since, cancellationToken);
                var useful = logged.Queries.Where(q => q.Labels.Any(l => l > 0) && q.Count > 1).ToList();
                context.Error.WriteLine($"{logged.RankingsSeen:N0} rankings of '{name}' since {since:u}; {logged.RankingsWithoutFeatures:N0} without logged features; {useful.Count:N0} with at least one click (used).");
                if (useful.Count < 20)
                {
                    return context.Fail(ExitCodes.Failure, "fewer than 20 logged rankings with clicks: not enough to train on");
                }

                var cut = (int)Math.Round(useful.Count * (1 - fraction));
                var train = ToTrainingData(useful[..cut], features.Length, !parse.GetValue(noPositions));
                var valid = ToTrainingData(useful[cut..], features.Length, !parse.GetValue(noPositions));
                var lgbm = new LightGbmTrainingOptions
                {
                    Objective = LightGbmObjective.LambdaRank,
                    Iterations = parse.GetValue(trees),
                    NumLeaves = parse.GetValue(leaves),
                    LearningRate = parse.GetValue(learningRate),
                    MinDataInLeaf = parse.GetValue(minData),
                    Threads = parse.GetValue(threads),
                    Seed = parse.GetValue(seed),
                    FeatureNames = features,
                    LabelGain = [0, 1, 3],
                    EvalAt = [1, 3, 5, 10],
                    Parameters = new Dictionary<string, string> { ["verbosity"] = "-1" },
                };

                TrainingResult result = null!;
                await context.Console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(progress =>
                    {
                        var task = progress.AddTask("Training", maxValue: lgbm.Iterations);
                        result = LightGbmTrainer.Train(lgbm, train, valid, p =>
                        {
                            task.Value = p.Iteration;
                            task.Description = string.Create(CultureInfo.InvariantCulture, $"Training: validation NDCG@10 {p.Metric("ndcg@10") ?? double.NaN:F4}");
                        }, cancellationToken);
                        return Task.CompletedTask;
                    });

                var path = parse.GetValue(output)!;
                await File.WriteAllTextAsync(path, result.ModelText, cancellationToken);
                var comparison = Compare(TreeModel.FromLightGbm(result.ModelText), useful[cut..], features);
                Print(context, comparison, useful.Count - cut);
                context.Error.WriteLine($"wrote {path} ({result.IterationsKept} trees)");

                if (parse.GetValue(register) || parse.GetValue(activate))
                {
                    var registry = new ModelRegistry((IModelStore)store, options.Serving, new Server.State.RecentRankings(0), TimeProvider.System, NullLogger.Instance);
                    var metrics = JsonSerializer.Serialize(comparison.ToDictionary(c => c.Key, c => new { model = c.Model.Estimate, modelLower = c.Model.Lower, modelUpper = c.Model.Upper, heuristic = c.Heuristic.Estimate, difference = c.Difference.Estimate, differenceLower = c.Difference.Lower, differenceUpper = c.Difference.Upper }));
                    var parameters = JsonSerializer.Serialize(new { trees = lgbm.Iterations, leaves = lgbm.NumLeaves, learningRate = lgbm.LearningRate, minDataInLeaf = lgbm.MinDataInLeaf, positions = !parse.GetValue(noPositions), seed = lgbm.Seed });
                    var record = await registry.RegisterAsync(
                        await File.ReadAllBytesAsync(path, cancellationToken),
                        name,
                        new ModelMetadata(null, parameters, useful[0].Time, useful[^1].Time, metrics),
                        cancellationToken);
                    if (parse.GetValue(activate))
                    {
                        await registry.ActivateAsync(name, record.Version, cancellationToken);
                    }

                    context.Out.WriteLine($"registered {record.Version} for surface {name}{(parse.GetValue(activate) ? " (active)" : "")}");
                }

                return ExitCodes.Ok;
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (ModelRejectedException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (StoreUnavailableException e)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }
            catch (LightGbmException e)
            {
                return context.Fail(ExitCodes.Failure, $"LightGBM: {e.Message}");
            }
        });
        return command;
    }

    /// <summary>NDCG@k of the model and of the heuristic on the same validation queries, with the paired difference.</summary>
    public static List<(string Key, Interval Model, Interval Heuristic, Interval Difference)> Compare(TreeModel model, IReadOnlyList<LoggedQuery> queries, IReadOnlyList<string> features)
    {
        var heuristicColumn = features.ToList().IndexOf(BuiltInFeatures.HeuristicScore);
        var results = new List<(string, Interval, Interval, Interval)>();
        foreach (var k in new[] { 1, 3, 5, 10 })
        {
            var m = new double[queries.Count];
            var h = new double[queries.Count];
            for (var q = 0; q < queries.Count; q++)
            {
                var query = queries[q];
                var labels = query.Labels.Select(l => (int)l).ToArray();
                var scores = new double[query.Count];
                model.Score(query.Rows, scores);
                m[q] = Ndcg.AtK(scores, labels, k, [0, 1, 3]);
                var heuristic = Enumerable.Range(0, query.Count).Select(r => heuristicColumn >= 0 ? query.Rows[(r * features.Count) + heuristicColumn] : -query.Positions[r]).ToArray();
                h[q] = Ndcg.AtK(heuristic, labels, k, [0, 1, 3]);
            }

            results.Add(($"ndcg@{k}", Bootstrap.MeanInterval(m), Bootstrap.MeanInterval(h), Bootstrap.MeanDifferenceInterval(m, h)));
        }

        return results;
    }

    private static void Print(CliContext context, List<(string Key, Interval Model, Interval Heuristic, Interval Difference)> comparison, int queries)
    {
        context.Out.WriteLine($"validation: {queries} later queries; NDCG with 95% bootstrap intervals over queries");
        context.Out.WriteLine("metric    model                      heuristic                  model - heuristic");
        foreach (var (key, model, heuristic, difference) in comparison)
        {
            context.Out.WriteLine($"{key,-9} {model,-26} {heuristic,-26} {difference}{(difference.Lower > 0 ? "  (model better)" : difference.Upper < 0 ? "  (heuristic better)" : "  (no difference shown)")}");
        }
    }

    private static TrainingData ToTrainingData(List<LoggedQuery> queries, int columns, bool positions)
    {
        var rows = queries.Sum(q => q.Count);
        var features = new double[rows * columns];
        var labels = new float[rows];
        var position = new int[rows];
        var offset = 0;
        foreach (var q in queries)
        {
            q.Rows.CopyTo(features, offset * columns);
            q.Labels.CopyTo(labels, offset);
            q.Positions.CopyTo(position, offset);
            offset += q.Count;
        }

        return new TrainingData(features, rows, columns, labels)
        {
            Groups = queries.Select(q => q.Count).ToArray(),
            Positions = positions ? position.Select(p => p - 1).ToArray() : default(ReadOnlyMemory<int>),
        };
    }

    private static async Task<DateTimeOffset?> NewestRankingAsync(IEventStore store, string surface, CancellationToken cancellationToken)
    {
        DateTimeOffset? newest = null;
        await foreach (var entry in store.ReadLogAsync(DateTimeOffset.MinValue, cancellationToken))
        {
            if (entry.Ranking is { } r && r.Surface == surface && (newest is null || r.Time > newest))
            {
                newest = r.Time;
            }
        }

        return newest;
    }
}
