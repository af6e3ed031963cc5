using System.Collections.Concurrent;
using System.Diagnostics;
using Lasthope.Core.Serving;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Models;
using Lasthope.Server.Telemetry;
using Lasthope.Trees;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Ranking;

/// <summary>How the model stage ended: who serves, why not the model, and how many of the top K it scored.</summary>
public readonly record struct ModelOutcome(ServedBy ServedBy, FallbackReason? Reason, int Depth)
{
    public static ModelOutcome NotMeant => new(ServedBy.Heuristic, null, 0);

    public static ModelOutcome Served(int depth) => new(ServedBy.Model, null, depth);

    public static ModelOutcome Partial(int depth) => new(ServedBy.ModelPartial, null, depth);

    public static ModelOutcome Fallback(FallbackReason reason) => new(ServedBy.HeuristicFallback, reason, 0);
}

/// <summary>
/// Stages 2 to 4, when the policy has a model: admission, the features of the heuristic's top K, and scoring under the
/// deadline. Admission comes first: a request that would queue past its deadline is turned away before it spends
/// anything on features ("overload"), so that under overload the CPU goes to answering rather than to work that will
/// be abandoned. The model scores block by block on the request's own thread and stops at the deadline, which leaves
/// a complete prefix: all K scored is "model", a prefix "model_partial", nothing "heuristic_fallback" with "timeout".
/// Exceptions give "model_error" or "features_unavailable" and count towards the surface's circuit breaker.
/// </summary>
public sealed partial class ModelStage(ScoringGate gate, FaultInjector faults, FeatureRows features, ServingOptions serving, TimeProvider time, ILogger<ModelStage> logger)
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);

    /// <summary>The circuit breaker of a surface's model path.</summary>
    public CircuitBreaker Breaker(string surface) => _breakers.GetOrAdd(surface, static (name, state) => new CircuitBreaker(name, state.Options, state.Time, state.Logger), (Options: serving.CircuitBreaker, Time: time, Logger: (ILogger)logger));

    internal async ValueTask<ModelOutcome> RunAsync(RankWork work, CancellationToken cancellationToken)
    {
        var policy = work.Policy;
        if (!policy.Meant)
        {
            return ModelOutcome.NotMeant;
        }

        if (policy.Model is not { } model)
        {
            return ModelOutcome.Fallback(FallbackReason.NoModel);
        }

        var command = work.Command;
        var k = Math.Min(policy.Depth, work.CandidateCount);
        var breaker = Breaker(command.Surface);
        if (!breaker.TryEnter())
        {
            return ModelOutcome.Fallback(FallbackReason.CircuitOpen);
        }

        try
        {
            return await RunEnteredAsync(work, model, k, breaker, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            breaker.Neutral(); // the client went away: no verdict, and a half-open trial must not stay taken
            throw;
        }
    }

    /// <summary>The model stage past the circuit breaker: every path ends in a verdict (success, failure or neutral).</summary>
    private async ValueTask<ModelOutcome> RunEnteredAsync(RankWork work, LoadedModel model, int k, CircuitBreaker breaker, CancellationToken cancellationToken)
    {
        var command = work.Command;
        var remaining = work.Remaining;
        if (remaining <= TimeSpan.Zero || work.Timings.GetValueOrDefault("wait") > serving.ShedModelAboveWaitMs)
        {
            breaker.Neutral();
            LogShed(logger, command.RequestId, "queued for the heuristic");
            return ModelOutcome.Fallback(FallbackReason.Overload); // the request queued past its budget, or the queue is long: shed
        }

        work.RentModelBuffers(k, model.Binding.Count);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(remaining);
        var token = deadline.Token;

        // Injected model latency is spent before admission: it stands for a model that is slow to answer, and must
        // not hold a scoring slot that other requests need (so that a drill hits exactly the chosen fraction).
        try
        {
            var latency = faults.ModelLatency(command.RequestId);
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, token); // real time: injected latency competes with the real deadline
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return GaveUp(work, breaker, "model", FallbackReason.Timeout);
        }

        if (!await gate.EnterAsync(TimeSpan.FromMilliseconds(serving.ShedModelAboveWaitMs), work.Remaining, token, reportWait: false))
        {
            LogShed(logger, command.RequestId, "no scoring turn in time");
            return GaveUp(work, breaker, "queue", FallbackReason.Overload);
        }

        work.Mark("queue");
        var admitted = Stopwatch.GetTimestamp();
        try
        {
            try
            {
                var latency = faults.FeatureLatency(command.RequestId);
                if (latency > TimeSpan.Zero)
                {
                    await Task.Delay(latency, token);
                }

                if (faults.FeatureError(command.RequestId))
                {
                    throw new InjectedFaultException("feature");
                }

                using (LasthopeActivity.Source.StartActivity("rank.features"))
                {
                    features.Fill(model.Binding, work, k, work.Matrix!);
                }

                work.Mark("features");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return GaveUp(work, breaker, "features", FallbackReason.Timeout);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Failed(work, breaker, "features", e, FallbackReason.FeaturesUnavailable);
            }

            try
            {
                if (faults.ModelError(command.RequestId))
                {
                    throw new InjectedFaultException("model");
                }

                int scored;
                using (LasthopeActivity.Source.StartActivity("rank.score"))
                {
                    scored = await ScoreAsync(work, model, k, token);
                }

                work.Mark("model");
                breaker.Success();
                return scored == k ? ModelOutcome.Served(k) : scored > 0 ? ModelOutcome.Partial(scored) : ModelOutcome.Fallback(FallbackReason.Timeout);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return GaveUp(work, breaker, "model", FallbackReason.Timeout);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Failed(work, breaker, "model", e, FallbackReason.ModelError);
            }
        }
        finally
        {
            gate.Exit(Stopwatch.GetElapsedTime(admitted).TotalMilliseconds);
        }
    }

    /// <summary>
    /// Scores the first <paramref name="k"/> rows block by block until the deadline; returns how many it finished. The
    /// evaluator also stops between blocks of trees and reports how many documents of a block it completed. The
    /// deadline is checked by the clock too: the token's timer fires on a thread-pool thread, which can be late exactly
    /// when the machine is saturated and the deadline matters most.
    /// </summary>
    private async ValueTask<int> ScoreAsync(RankWork work, LoadedModel model, int k, CancellationToken token)
    {
        var columns = model.Binding.Count;
        var blockLatency = faults.ModelBlockLatency(work.Command.RequestId);
        var scored = 0;
        while (scored < k && !token.IsCancellationRequested && !work.PastDeadline)
        {
            var length = Math.Min(TreeModel.ScoringBlockSize, k - scored);
            var done = model.Model.Score(work.Matrix.AsSpan(scored * columns, length * columns), work.ModelScores.AsSpan(scored, length), token);
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

        return scored;
    }

    /// <summary>A stage given up on for lack of time (timeout, overload): no verdict on the model's health.</summary>
    private static ModelOutcome GaveUp(RankWork work, CircuitBreaker breaker, string stage, FallbackReason reason)
    {
        work.Mark(stage);
        breaker.Neutral();
        return ModelOutcome.Fallback(reason);
    }

    /// <summary>A stage that threw: logged, and counted by the circuit breaker.</summary>
    private ModelOutcome Failed(RankWork work, CircuitBreaker breaker, string stage, Exception e, FallbackReason reason)
    {
        work.Mark(stage);
        LogStageFailed(logger, stage, work.Command.RequestId, e);
        breaker.Failure();
        return ModelOutcome.Fallback(reason);
    }

    [LoggerMessage(EventId = LogEvents.StageFailed, Level = LogLevel.Warning, Message = "Rank {RequestId}: the {Stage} stage failed; the heuristic serves")]
    private static partial void LogStageFailed(ILogger logger, string stage, string requestId, Exception exception);

    [LoggerMessage(EventId = LogEvents.ModelShed, Level = LogLevel.Debug, Message = "Rank {RequestId}: the model stage was shed ({Why}); the heuristic serves with overload")]
    private static partial void LogShed(ILogger logger, string requestId, string why);
}
