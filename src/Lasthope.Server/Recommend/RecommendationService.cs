using System.Buffers;
using System.Diagnostics;
using Lasthope.Core.Events;
using Lasthope.Core.Segments;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Lasthope.Factors;
using Lasthope.Server.Configuration;
using Lasthope.Server.Ranking;
using Lasthope.Server.State;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Recommend;

/// <summary>A validated recommendation request.</summary>
public sealed record RecommendCommand
{
    public required string RequestId { get; init; }

    public required string Surface { get; init; }

    public required string UserId { get; init; }

    public int? Age { get; init; }

    public string? Gender { get; init; }

    public string? ExplicitSegment { get; init; }

    public required int Count { get; init; }

    public IReadOnlyList<string> Exclude { get; init; } = [];

    public bool FilterSeen { get; init; } = true;

    /// <summary>Interactions listed in the request (item id, weight), for users the model has not seen.</summary>
    public IReadOnlyList<KeyValuePair<string, float>> Interactions { get; init; } = [];

    public double? BudgetMs { get; init; }
}

/// <summary>
/// Serves POST /v1/recommend and GET /v1/similar with the same served-path contract as /v1/rank. A user the active ALS
/// model knows gets x_u . y_i top-k (brute force over every item, SIMD); a user it does not know but who has
/// interactions (the server's memory of their latest events, or the request) gets factors folded in on the spot, an exact solve of the user's
/// equation against the fixed item factors; a user with nothing known gets the popularity list of their segment
/// (source "popular"). Without a model the popularity lists serve ("heuristic"); when the model fails or the budget runs
/// out they serve as the fallback with the reason. Every served list is logged like a ranking, so clicks attribute.
/// </summary>
public sealed partial class RecommendationService(
    RecommenderRegistry registry,
    PopularityIndex popularity,
    SegmentResolver segments,
    UserHistory users,
    RankRecorder recorder,
    RecommendOptions options,
    TimeProvider time,
    ILogger<RecommendationService> logger)
{
    public const string HeuristicVersion = "popularity-v1";

    public async ValueTask<RankResult> RecommendAsync(RecommendCommand command, long arrival, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        using var activity = LasthopeActivity.Source.StartActivity("recommend");
        activity?.SetTag(LasthopeActivity.Tags.RequestId, command.RequestId);
        activity?.SetTag(LasthopeActivity.Tags.Surface, command.Surface);
        var notes = new List<string>(4);
        var timings = new Dictionary<string, double>(StringComparer.Ordinal);
        var last = arrival;
        void Mark(string stage)
        {
            var now = Stopwatch.GetTimestamp();
            timings[stage] = Stopwatch.GetElapsedTime(last, now).TotalMilliseconds;
            last = now;
        }

        var budgetMs = command.BudgetMs ?? options.BudgetMs;
        var deadline = arrival + (long)(budgetMs / 1000 * Stopwatch.Frequency);
        var segment = await segments.ResolveAsync(command.UserId, command.Age, command.Gender, command.ExplicitSegment, notes, cancellationToken);
        Mark("segment");

        var model = registry.Active(command.Surface);
        ServedBy servedBy;
        FallbackReason? reason = null;
        IReadOnlyList<(string Id, float Score, ItemSource Source)> items;
        var exclude = new HashSet<string>(command.Exclude, StringComparer.Ordinal);
        if (model is null)
        {
            servedBy = ServedBy.Heuristic;
            items = await PopularAsync(command, segment, exclude, cancellationToken);
        }
        else
        {
            try
            {
                var result = FromModel(model.Model, command, exclude, deadline, notes, Mark);
                if (result is null)
                {
                    servedBy = ServedBy.Heuristic; // nothing known of the user: popularity is the intended answer
                    notes.Add("cold_start");
                    items = await PopularAsync(command, segment, exclude, cancellationToken);
                }
                else
                {
                    servedBy = ServedBy.Model;
                    items = result;
                }
            }
            catch (TimeoutException)
            {
                servedBy = ServedBy.HeuristicFallback;
                reason = FallbackReason.Timeout;
                items = await PopularAsync(command, segment, exclude, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogModelFailed(logger, command.RequestId, e);
                servedBy = ServedBy.HeuristicFallback;
                reason = FallbackReason.ModelError;
                items = await PopularAsync(command, segment, exclude, cancellationToken);
            }
        }

        Mark("recommend");
        timings["total"] = Stopwatch.GetElapsedTime(arrival).TotalMilliseconds;
        var ranking = new RankingLog
        {
            RequestId = command.RequestId,
            Time = time.GetUtcNow(),
            UserId = command.UserId,
            Segment = segment,
            Surface = command.Surface,
            Items = [.. items.Select((item, i) => new ServedItem(item.Id, i + 1, item.Score, item.Source))],
            ServedBy = servedBy,
            FallbackReason = reason,
            ModelVersion = model?.Version,
            HeuristicVersion = HeuristicVersion,
            RerankDepth = 0,
            BudgetMs = budgetMs,
            TimingsMs = timings,
            Notes = notes,
        };
        recorder.Record(ranking, modelMeant: model is not null);
        activity.SetServedPath(ranking);
        return new RankResult(ranking, 0);
    }

    /// <summary>Items similar to <paramref name="itemId"/> by the cosine of their factors; null when the model does not know it.</summary>
    public IReadOnlyList<ServedItem>? Similar(string surface, string itemId, int count, out string? modelVersion)
    {
        var model = registry.Active(surface);
        modelVersion = model?.Version;
        if (model is null || !model.Model.Items.TryGetIndex(itemId, out var item))
        {
            return null;
        }

        var buffer = new ScoredItem[Math.Min(count, Math.Max(0, model.Model.Items.Count - 1))];
        var n = model.Model.Similar(item, buffer);
        return [.. buffer.AsSpan(0, n).ToArray().Select((s, i) => new ServedItem(model.Model.Items[s.Item], i + 1, s.Score, ItemSource.Als))];
    }

    /// <summary>The model's list, or null when nothing is known of the user (neither in the model nor anywhere else).</summary>
    private IReadOnlyList<(string, float, ItemSource)>? FromModel(
        AlsModel model, RecommendCommand command, HashSet<string> exclude, long deadline, List<string> notes, Action<string> mark)
    {
        // The user's own latest interactions: to fold in a user the model has not seen, and to filter what they saw
        // since. From memory (within UserHistory.Window), not the store: an index by user there cost ingestion 6x.
        var history = users.Latest(command.UserId, time.GetUtcNow(), options.MaxUserEvents);
        mark("history");
        if (command.FilterSeen)
        {
            exclude.UnionWith(history.Select(e => e.ItemId));
            exclude.UnionWith(command.Interactions.Select(i => i.Key));
        }

        // The rule is the library's (known, else folded in, else nothing), the same the CLI and the batch use.
        var interactions = history.Select(e => new KeyValuePair<string, float>(e.ItemId, (float)e.Weight)).Concat(command.Interactions).ToList();
        ThrowIfPast(deadline);
        var result = AlsRecommendations.FromModel(model, command.UserId, command.Count, AlsRecommendations.Indices(model, exclude), command.FilterSeen, interactions, out _);
        if (result is null)
        {
            return null;
        }

        if (result.FoldedIn)
        {
            mark("fold_in");
            notes.Add("folded_in");
        }

        return [.. result.Items.Select(r => (r.ItemId, r.Score, ItemSource.Als))];
    }

    /// <summary>
    /// The popularity list of the segment (overall when the segment has too few users), topped up, when the store's
    /// recent events are too few to fill it, from the active model's own training popularity: never blank while
    /// anything at all is known.
    /// </summary>
    private async ValueTask<IReadOnlyList<(string, float, ItemSource)>> PopularAsync(RecommendCommand command, string segment, HashSet<string> exclude, CancellationToken cancellationToken)
    {
        var lists = popularity.Current ?? await popularity.RebuildAsync(cancellationToken);
        if (command.FilterSeen && command.Interactions.Count > 0)
        {
            exclude.UnionWith(command.Interactions.Select(i => i.Key));
        }

        var top = lists.TopN(segment == SegmentScheme.Unknown ? null : segment, command.Count, exclude);
        var result = top.Select(r => (r.ItemId, r.Score, ItemSource.Popular)).ToList();
        if (result.Count < command.Count && registry.Active(command.Surface) is { } active)
        {
            var taken = new HashSet<string>(result.Select(r => r.ItemId), StringComparer.Ordinal);
            var model = active.Model;
            var users = Math.Max(1, model.Users.Count);
            foreach (var item in active.PopularOrder)
            {
                if (result.Count == command.Count)
                {
                    break;
                }

                var id = model.Items[item];
                if (!exclude.Contains(id) && taken.Add(id))
                {
                    result.Add((id, (float)model.ItemUserCounts[item] / users, ItemSource.Popular));
                }
            }
        }

        return result;
    }

    private static void ThrowIfPast(long deadline)
    {
        if (Stopwatch.GetTimestamp() > deadline)
        {
            throw new TimeoutException();
        }
    }

    [LoggerMessage(EventId = LogEvents.RecommendModelFailed, Level = LogLevel.Warning, Message = "Recommend {RequestId}: the model failed; popularity serves")]
    private static partial void LogModelFailed(ILogger logger, string requestId, Exception exception);
}
