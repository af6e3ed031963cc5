using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Lasthope.Core.Events;
using Lasthope.Core.Segments;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Lasthope.Counters;
using Lasthope.Server.Api;
using Lasthope.Server.Cascade;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Models;
using Lasthope.Server.Telemetry;
using Lasthope.Trees;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Ranking;

/// <summary>
/// Serves POST /v1/rank: the deadline cascade.
/// <list type="number">
/// <item>The last-hope heuristic scores every candidate, always: its order is the first phase and the answer of last resort.</item>
/// <item>The policy (the surface's active model, or the experiment arm's) says whether a model re-ranks, and K.</item>
/// <item>Features are assembled for the heuristic's top K.</item>
/// <item>The model scores them, in blocks, until the deadline (arrival + budget - reserve).</item>
/// <item>The scored prefix is re-ranked and placed above the rest, which keeps its heuristic order.</item>
/// </list>
/// When the model cannot finish, the heuristic ranking is served with the reason. Everything runs on the request's own
/// thread with cooperative cancellation, so abandoned work stops at the next block instead of running on. The served
/// list is logged with the path that served it and the feature vectors that were scored.
/// </summary>
public sealed partial class RankingService
{
    private static readonly double TicksPerMs = Stopwatch.Frequency / 1000.0;

    private readonly CounterState _state;
    private readonly SegmentScheme _segments;
    private readonly UserSegments _users;
    private readonly ImpressionLog _log;
    private readonly RecentRankings _recent;
    private readonly TimeProvider _time;
    private readonly LasthopeMetrics _metrics;
    private readonly ServingOptions _serving;
    private readonly ModelRegistry _models;
    private readonly ExperimentAssigner _experiments;
    private readonly ScoringGate _gate;
    private readonly FaultInjector _faults;
    private readonly FallbackWindow _fallbacks;
    private readonly ILogger<RankingService> _logger;
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FeatureBinding> _loggedFeatures = new(StringComparer.Ordinal);
    private readonly SegmentResolver _segmentResolver;

    public RankingService(
        CounterState state,
        SegmentScheme segments,
        UserSegments users,
        SegmentResolver segmentResolver,
        ImpressionLog log,
        RecentRankings recent,
        TimeProvider time,
        LasthopeMetrics metrics,
        ServingOptions serving,
        ModelRegistry models,
        ExperimentAssigner experiments,
        ScoringGate gate,
        FaultInjector faults,
        FallbackWindow fallbacks,
        ILogger<RankingService> logger)
    {
        _state = state;
        _segments = segments;
        _users = users;
        _log = log;
        _recent = recent;
        _time = time;
        _metrics = metrics;
        _serving = serving;
        _models = models;
        _experiments = experiments;
        _gate = gate;
        _faults = faults;
        _fallbacks = fallbacks;
        _logger = logger;
        _segmentResolver = segmentResolver; // shared with the recommend path
    }

    /// <summary>The circuit breaker of a surface's model path.</summary>
    public CircuitBreaker Breaker(string surface) => _breakers.GetOrAdd(surface, _ => new CircuitBreaker(_serving.CircuitBreaker, _time));

    /// <summary>Ranks a validated request. <paramref name="arrival"/> is the <see cref="Stopwatch"/> timestamp the budget counts from.</summary>
    public async ValueTask<RankResponse> RankAsync(RankCommand command, long arrival = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (arrival == 0)
        {
            arrival = Stopwatch.GetTimestamp();
        }

        var request = new RequestState(command, arrival);
        var surfaceOptions = _serving.Surface(command.Surface);
        request.BudgetMs = command.BudgetMs ?? surfaceOptions.BudgetMs ?? _serving.BudgetMs;
        request.Deadline = arrival + (long)((request.BudgetMs - _serving.ResponseReserveMs) * TicksPerMs);

        return await RankInTurnAsync(request, command, surfaceOptions, arrival, cancellationToken);
    }

    private async ValueTask<RankResponse> RankInTurnAsync(RequestState request, RankCommand command, SurfaceOptions surfaceOptions, long arrival, CancellationToken cancellationToken)
    {

        var segment = await _segmentResolver.ResolveAsync(command.UserId, command.Age, command.Gender, command.ExplicitSegment, request.Notes, cancellationToken);
        request.Mark("segment");

        var policy = await ResolvePolicyAsync(command, surfaceOptions, cancellationToken);
        request.Experiment = policy.Assignment is { } a ? new ExperimentArm(a.ExperimentId, a.Arm.Name) : null;

        var n = command.CandidateIds.Length;
        var scores = ArrayPool<double>.Shared.Rent(n);
        var order = ArrayPool<int>.Shared.Rent(n);
        var estimates = ArrayPool<CtrEstimate>.Shared.Rent(n);
        double[]? modelScores = null;
        double[]? matrix = null;
        try
        {
            // Stage 1, always: the last hope, in a CPU turn of its own (waiting for it counts as "wait").
            await _gate.EnterAsync(cancellationToken);
            request.Mark("wait");
            var ranker = _state.Ranker;
            HeuristicSummary summary;
            try
            {
                summary = ranker.Score(segment, command.CandidateIds, scores, estimates);

                // Only the best max(K, count) need an order: the model's block and the served list.
                LastHopeRanker.Order(command.CandidateIds, scores, order.AsSpan(0, n), Math.Max(policy.Meant ? policy.Depth : 0, command.Count));
            }
            finally
            {
                _gate.Exit();
            }

            request.Mark("heuristic");
            NoteHeuristic(summary, request.Notes);

            // Stages 2-4: the model, when the policy has one and the budget allows.
            var outcome = ModelOutcome.NotMeant;
            if (policy.Meant)
            {
                var k = Math.Min(policy.Depth, n);
                if (policy.Model is null)
                {
                    outcome = ModelOutcome.Fallback(FallbackReason.NoModel);
                }
                else
                {
                    modelScores = ArrayPool<double>.Shared.Rent(k);
                    matrix = ArrayPool<double>.Shared.Rent(k * policy.Model.Binding.Count);
                    outcome = await ScoreWithModelAsync(request, policy.Model, segment, scores, order, k, modelScores, matrix, cancellationToken);
                }
            }

            // Stage 5: the served list. Re-ranked prefix above the rest; never interleaved.
            var depth = outcome.Depth;
            if (depth > 0)
            {
                request.HeuristicOrder = order.AsSpan(0, depth).ToArray();
                var ms = modelScores!;
                var positions = new int[depth];
                for (var i = 0; i < depth; i++)
                {
                    positions[i] = i;
                }

                // Model score descending; ties keep the heuristic order (a stable, total order).
                Array.Sort(positions, (x, y) => ms[y].CompareTo(ms[x]) is var c && c != 0 ? c : x.CompareTo(y));
                var reranked = new int[depth];
                var rerankedScores = new double[depth];
                for (var i = 0; i < depth; i++)
                {
                    reranked[i] = order[positions[i]];
                    rerankedScores[i] = ms[positions[i]];
                }

                reranked.CopyTo(order, 0);
                rerankedScores.CopyTo(ms, 0);
            }

            var count = Math.Min(command.Count, n);
            var items = new RankedItemDto[count];
            var served = new ServedItem[count];
            for (var i = 0; i < count; i++)
            {
                var index = order[i];
                var fromModel = i < depth;
                var score = fromModel ? modelScores![i] : scores[index];
                var source = fromModel ? ItemSource.Model : ItemSource.Heuristic;
                items[i] = new RankedItemDto(command.CandidateIds[index], i + 1, score, source);
                served[i] = new ServedItem(command.CandidateIds[index], i + 1, score, source);
            }

            var features = LogFeatures(request, policy, outcome, segment, scores, order, matrix, count);
            if (_log.StoreError is not null && !request.Notes.Contains("store_unavailable"))
            {
                request.Notes.Add("store_unavailable");
            }

            var servedBy = outcome.ServedBy;
            request.Timings["total"] = Stopwatch.GetElapsedTime(arrival).TotalMilliseconds;
            var ranking = new RankingLog
            {
                RequestId = command.RequestId,
                Time = _time.GetUtcNow(),
                UserId = command.UserId,
                Segment = segment,
                Surface = command.Surface,
                Items = served,
                ServedBy = servedBy,
                FallbackReason = outcome.Reason,
                ModelVersion = policy.Model?.Version ?? policy.WantedVersion,
                HeuristicVersion = ranker.Version,
                RerankDepth = depth,
                BudgetMs = policy.Meant ? request.BudgetMs : 0,
                Experiment = request.Experiment,
                TimingsMs = request.Timings,
                Notes = request.Notes,
                Features = features,
            };
            Record(ranking);
            _fallbacks.Record(servedBy);
            _metrics.RankServed(command.Surface, request.Experiment?.Arm, servedBy, outcome.Reason, request.Timings["total"] / 1000, count);
            if (policy.Meant && outcome.Reason is null)
            {
                _metrics.RerankDepth(command.Surface, depth);
            }

            foreach (var (stage, ms) in request.Timings)
            {
                if (stage != "total")
                {
                    _metrics.Stage(stage, servedBy, ms / 1000);
                }
            }

            return new RankResponse
            {
                RequestId = command.RequestId,
                ServedBy = servedBy,
                FallbackReason = outcome.Reason,
                ModelVersion = ranking.ModelVersion,
                HeuristicVersion = ranker.Version,
                RerankDepth = depth,
                BudgetMs = ranking.BudgetMs,
                Experiment = request.Experiment is { } e ? new ExperimentDto(e.ExperimentId, e.Arm) : null,
                Segment = segment,
                Items = items,
                Timings = request.Timings,
                Notes = request.Notes,
                UnknownItems = summary.UnknownItems,
            };
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scores);
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<CtrEstimate>.Shared.Return(estimates);
            if (modelScores is not null)
            {
                ArrayPool<double>.Shared.Return(modelScores);
            }

            if (matrix is not null)
            {
                ArrayPool<double>.Shared.Return(matrix);
            }
        }
    }

    /// <summary>
    /// Admission, features and scoring under the deadline. Returns how the model stage ended; on success
    /// <paramref name="modelScores"/> holds the scores of the first Depth documents of the heuristic order.
    /// </summary>
    /// <remarks>
    /// Admission comes first: a request that would queue past its deadline is turned away before it spends anything on
    /// features, so that under overload the CPU goes to answering (with the heuristic) rather than to work that will
    /// be abandoned. A scoring slot covers the feature and model stages.
    /// </remarks>
    private async ValueTask<ModelOutcome> ScoreWithModelAsync(
        RequestState request, LoadedModel model, string segment, double[] scores, int[] order, int k, double[] modelScores, double[] matrix, CancellationToken cancellationToken)
    {
        var command = request.Command;
        var breaker = Breaker(command.Surface);
        if (!breaker.TryEnter())
        {
            return ModelOutcome.Fallback(FallbackReason.CircuitOpen);
        }

        var remaining = request.Remaining;
        if (remaining <= TimeSpan.Zero || request.Timings.GetValueOrDefault("wait") > _serving.ShedModelAboveWaitMs)
        {
            breaker.Neutral();
            return ModelOutcome.Fallback(FallbackReason.Overload); // the request queued past its budget, or the queue is long: shed
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(remaining);
        var token = deadline.Token;

        // Injected model latency is spent before admission: it stands for a model that is slow to answer, and must
        // not hold a scoring slot that other requests need (so that a drill hits exactly the chosen fraction).
        try
        {
            var latency = _faults.ModelLatency(command.RequestId);
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, token); // real time: injected latency competes with the real deadline
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return GaveUp(request, breaker, "model", FallbackReason.Timeout);
        }

        // Stage 2-4 start with admission.
        if (!await _gate.EnterAsync(TimeSpan.FromMilliseconds(_serving.ShedModelAboveWaitMs), request.Remaining, token))
        {
            return GaveUp(request, breaker, "queue", FallbackReason.Overload);
        }

        request.Mark("queue");
        var admitted = Stopwatch.GetTimestamp();
        try
        {
            // Stage 3: features of the top K.
            try
            {
                var latency = _faults.FeatureLatency(command.RequestId);
                if (latency > TimeSpan.Zero)
                {
                    await Task.Delay(latency, token);
                }

                if (_faults.FeatureError(command.RequestId))
                {
                    throw new InjectedFaultException("feature");
                }

                AssembleFeatures(model.Binding, command, segment, scores, order, k, matrix);
                request.Mark("features");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return GaveUp(request, breaker, "features", FallbackReason.Timeout);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Failed(request, breaker, "features", e, FallbackReason.FeaturesUnavailable);
            }

            // Stage 4: scoring in blocks until the deadline.
            try
            {
                if (_faults.ModelError(command.RequestId))
                {
                    throw new InjectedFaultException("model");
                }

                // Score block by block so that the deadline leaves a complete prefix: the evaluator itself also stops
                // between blocks of trees, and reports how many documents of a block it finished. The deadline is also
                // checked by the clock: the token's timer fires on a thread-pool thread, which can be late exactly when
                // the machine is saturated and the deadline matters most.
                var columns = model.Binding.Count;
                var blockLatency = _faults.ModelBlockLatency(command.RequestId);
                var scored = 0;
                while (scored < k && !token.IsCancellationRequested && Stopwatch.GetTimestamp() < request.Deadline)
                {
                    var length = Math.Min(TreeModel.ScoringBlockSize, k - scored);
                    var done = model.Model.Score(matrix.AsSpan(scored * columns, length * columns), modelScores.AsSpan(scored, length), token);
                    scored += done;
                    if (done < length)
                    {
                        break;
                    }

                    if (blockLatency > TimeSpan.Zero && scored < k)
                    {
                        await Task.Delay(blockLatency, token).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    }
                }

                request.Mark("model");
                breaker.Success();
                return scored == k ? ModelOutcome.Served(k) : scored > 0 ? ModelOutcome.Partial(scored) : ModelOutcome.Fallback(FallbackReason.Timeout);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return GaveUp(request, breaker, "model", FallbackReason.Timeout);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Failed(request, breaker, "model", e, FallbackReason.ModelError);
            }
        }
        finally
        {
            _gate.Exit(Stopwatch.GetElapsedTime(admitted).TotalMilliseconds);
        }
    }

    /// <summary>A stage given up on for lack of time (timeout, overload): no verdict on the model's health.</summary>
    private static ModelOutcome GaveUp(RequestState request, CircuitBreaker breaker, string stage, FallbackReason reason)
    {
        request.Mark(stage);
        breaker.Neutral();
        return ModelOutcome.Fallback(reason);
    }

    /// <summary>A stage that threw: logged, and counted by the circuit breaker.</summary>
    private ModelOutcome Failed(RequestState request, CircuitBreaker breaker, string stage, Exception e, FallbackReason reason)
    {
        request.Mark(stage);
        LogStageFailed(_logger, stage, request.Command.RequestId, e);
        breaker.Failure();
        return ModelOutcome.Fallback(reason);
    }

    /// <summary>Rows for the first <paramref name="k"/> candidates of the heuristic order, in that order.</summary>
    private void AssembleFeatures(FeatureBinding binding, RankCommand command, string segment, double[] scores, int[] order, int k, double[] matrix)
    {
        var counters = _state.Counters;
        var inSegment = counters.BeginEstimation(segment);
        var overall = counters.BeginEstimation(SegmentScheme.Unknown);
        var segmentId = SegmentId(segment);
        var now = _time.GetUtcNow();
        Span<double> builtIns = stackalloc double[BuiltInFeatures.Count];
        var columns = binding.Count;
        for (var r = 0; r < k; r++)
        {
            var index = order[r];
            var described = counters.Describe(inSegment, overall, command.CandidateIds[index]);
            BuiltInFeatures.Compute(scores[index], r + 1, described, segmentId, now, builtIns);
            binding.Fill(builtIns, command.CandidateFeatures[index], matrix.AsSpan(r * columns, columns));
        }
    }

    /// <summary>
    /// The feature vectors logged with the impressions: for a model-served request, exactly the rows the model scored
    /// for the shown items it placed; otherwise (when configured) the built-in and request features of the shown items,
    /// so that a first model can be trained from heuristic traffic.
    /// </summary>
    private FeatureLog? LogFeatures(RequestState request, Policy policy, ModelOutcome outcome, string segment, double[] scores, int[] order, double[]? matrix, int count)
    {
        var command = request.Command;
        if (outcome.Depth > 0)
        {
            // The model's rows are in heuristic order; the served list is re-ranked. Find each shown item's row.
            var binding = policy.Model!.Binding;
            var columns = binding.Count;
            var shown = Math.Min(count, outcome.Depth);
            var rowOf = new Dictionary<int, int>(outcome.Depth);
            for (var r = 0; r < outcome.Depth; r++)
            {
                rowOf[request.HeuristicOrder![r]] = r;
            }

            var values = new double[shown * columns];
            var ids = new string[shown];
            for (var i = 0; i < shown; i++)
            {
                var row = rowOf[order[i]];
                ids[i] = command.CandidateIds[order[i]];
                matrix.AsSpan(row * columns, columns).CopyTo(values.AsSpan(i * columns, columns));
            }

            return new FeatureLog(binding.Names, ids, values);
        }

        if (!_serving.LogFeaturesWithoutModel || outcome.Reason == FallbackReason.FeaturesUnavailable)
        {
            return null;
        }

        var everything = _loggedFeatures.GetOrAdd(command.Surface, s => FeatureBinding.Everything(s, _serving.Surface(s)));
        var all = new double[count * everything.Count];
        var shownIds = new string[count];

        var counters = _state.Counters;
        var inSegment = counters.BeginEstimation(segment);
        var overall = counters.BeginEstimation(SegmentScheme.Unknown);
        var segmentId = SegmentId(segment);
        var now = _time.GetUtcNow();
        Span<double> builtIns = stackalloc double[BuiltInFeatures.Count];
        for (var i = 0; i < count; i++)
        {
            var index = order[i];
            shownIds[i] = command.CandidateIds[index];
            var described = counters.Describe(inSegment, overall, shownIds[i]);
            BuiltInFeatures.Compute(scores[index], i + 1, described, segmentId, now, builtIns); // served in heuristic order
            everything.Fill(builtIns, command.CandidateFeatures[index], all.AsSpan(i * everything.Count, everything.Count));
        }

        return new FeatureLog(everything.Names, shownIds, all);
    }

    private double SegmentId(string segment)
    {
        var grid = _segments.GridSegments;
        for (var i = 0; i < grid.Count; i++)
        {
            if (grid[i] == segment)
            {
                return i;
            }
        }

        return double.NaN;
    }

    /// <summary>Which model (if any) is meant to serve, and with what depth.</summary>
    private async ValueTask<Policy> ResolvePolicyAsync(RankCommand command, SurfaceOptions surface, CancellationToken cancellationToken)
    {
        var depth = command.RerankDepth ?? surface.RerankDepth ?? _serving.RerankDepth;
        var assignment = command.UserId is { } user ? _experiments.Assign(command.Surface, user) : null;
        if (assignment is null)
        {
            var active = _models.Active(command.Surface);
            return active is null || depth == 0 ? Policy.HeuristicOnly(null) : new Policy(true, active, null, depth, null);
        }

        var arm = assignment.Arm;
        depth = command.RerankDepth ?? arm.RerankDepth ?? depth;
        if (string.Equals(arm.Policy, "heuristic", StringComparison.Ordinal) || depth == 0)
        {
            return Policy.HeuristicOnly(assignment);
        }

        if (string.Equals(arm.Policy, "active", StringComparison.Ordinal))
        {
            return new Policy(true, _models.Active(command.Surface), null, depth, assignment);
        }

        LoadedModel? model;
        try
        {
            model = await _models.GetAsync(command.Surface, arm.Policy, cancellationToken);
        }
        catch (Exception e) when (e is ModelRejectedException or StoreUnavailableException)
        {
            LogStageFailed(_logger, "policy", command.RequestId, e);
            model = null;
        }

        return new Policy(true, model, arm.Policy, depth, assignment);
    }

    /// <summary>Counts the impressions, remembers the ranking for attribution, and queues it for the store.</summary>
    private void Record(RankingLog ranking)
    {
        var counters = _state.Counters;
        foreach (var item in ranking.Items)
        {
            counters.RecordImpression(item.ItemId, ranking.Segment, ranking.Time, item.Position);
        }

        _recent.Add(ranking);
        if (ranking.UserId is { } user && ranking.Segment != SegmentScheme.Unknown)
        {
            _users.Remember(user, ranking.Segment);
        }

        if (!_log.Enqueue(ranking) && ranking.Features is not null)
        {
            _metrics.FeatureLogDropped(1);
        }
    }

    private static void NoteHeuristic(HeuristicSummary summary, List<string> notes)
    {
        if (summary.CountersEmpty)
        {
            notes.Add("empty_counters");
        }

        if (summary.UnknownItems > 0)
        {
            notes.Add("unknown_items");
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Rank {RequestId}: the {Stage} stage failed; the heuristic serves")]
    private static partial void LogStageFailed(ILogger logger, string stage, string requestId, Exception exception);

    /// <summary>The policy of one request.</summary>
    private sealed record Policy(bool Meant, LoadedModel? Model, string? WantedVersion, int Depth, Assignment? Assignment)
    {
        public static Policy HeuristicOnly(Assignment? assignment) => new(false, null, null, 0, assignment);
    }

    /// <summary>How the model stage ended.</summary>
    private readonly record struct ModelOutcome(ServedBy ServedBy, FallbackReason? Reason, int Depth)
    {
        public static ModelOutcome NotMeant => new(ServedBy.Heuristic, null, 0);

        public static ModelOutcome Served(int depth) => new(ServedBy.Model, null, depth);

        public static ModelOutcome Partial(int depth) => new(ServedBy.ModelPartial, null, depth);

        public static ModelOutcome Fallback(FallbackReason reason) => new(ServedBy.HeuristicFallback, reason, 0);
    }

    /// <summary>Per-request bookkeeping: the deadline, stage timings, notes.</summary>
    private sealed class RequestState(RankCommand command, long arrival)
    {
        private long _last = arrival;

        public RankCommand Command { get; } = command;

        public double BudgetMs { get; set; }

        public long Deadline { get; set; }

        public ExperimentArm? Experiment { get; set; }

        public int[]? HeuristicOrder { get; set; }

        public List<string> Notes { get; } = new(4);

        public Dictionary<string, double> Timings { get; } = new(8, StringComparer.Ordinal);

        public TimeSpan Remaining => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Deadline);

        /// <summary>Records the time since the previous mark under <paramref name="stage"/>.</summary>
        public void Mark(string stage)
        {
            var now = Stopwatch.GetTimestamp();
            Timings[stage] = Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds;
            _last = now;
        }
    }
}
