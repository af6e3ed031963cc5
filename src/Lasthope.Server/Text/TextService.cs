using System.Collections.Concurrent;
using System.Diagnostics;
using Lasthope.Core.Serving;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;
using Lasthope.Text;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Text;

/// <summary>A text request, validated.</summary>
/// <param name="BudgetMs">The request's own budget (at most the model's), or null for the model's.</param>
public sealed record TextCommand(string RequestId, IReadOnlyList<string> Texts, double? BudgetMs);

/// <summary>The answer: the scores (texts x outputs, row-major), which family gave them, and why.</summary>
/// <param name="ServedBy"><c>model</c> (the encoder answered) or <c>heuristic_fallback</c> (the TF-IDF baseline did, for <see cref="Reason"/>).</param>
public sealed record TextResult(
    string RequestId,
    ServedTextModel Model,
    double[] Scores,
    TextFamily Family,
    ServedBy ServedBy,
    FallbackReason? Reason,
    double BudgetMs,
    double ElapsedMs,
    double EncoderMs);

/// <summary>
/// Serves a text model under a deadline with its TF-IDF baseline as the last hope, the cascade of /v1/rank made for
/// texts: the budget counts from the complete request; the encoder family runs on the thread pool inside a scoring
/// turn (<see cref="ScoringGate"/>), and when it has not answered by the deadline, fails, or its circuit is open, the
/// baseline answers every text of the request (a batch is encoded as one call, so it is answered by one family). An
/// encoder call past the deadline is not abandoned mid-way (ONNX Runtime cannot stop inside a run): it finishes in
/// the background and keeps its scoring turn until then, so that a slow encoder sheds load rather than piling it up.
/// </summary>
public sealed partial class TextService(
    ScoringGate gate,
    ServingOptions serving,
    FaultInjector faults,
    LasthopeMetrics metrics,
    TimeProvider time,
    ILogger<TextService> logger)
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);

    public async Task<TextResult> ScoreAsync(ServedTextModel served, TextCommand command, long arrival, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(served);
        ArgumentNullException.ThrowIfNull(command);
        arrival = arrival == 0 ? Stopwatch.GetTimestamp() : arrival;
        var model = served.Model;
        var budgetMs = Math.Min(command.BudgetMs ?? double.MaxValue, model.BudgetMs);
        var deadline = arrival + (long)(budgetMs * Stopwatch.Frequency / 1000.0);
        var scores = new double[command.Texts.Count * model.Outputs];
        var started = Stopwatch.GetTimestamp();
        FallbackReason? reason;
        if (model.Encoder is not { } encoder)
        {
            reason = FallbackReason.NoModel;
        }
        else
        {
            var breaker = _breakers.GetOrAdd(served.Version, _ => new CircuitBreaker($"text:{served.Name}:{served.Version}", serving.CircuitBreaker, time, logger));
            if (!breaker.TryEnter())
            {
                reason = FallbackReason.CircuitOpen;
            }
            else
            {
                try
                {
                    reason = await EncoderAsync(served, encoder, command, scores, deadline, breaker, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    breaker.Neutral(); // the client went away: no verdict, and a half-open trial must not stay taken
                    throw;
                }
            }
        }

        var encoderMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (reason is not null)
        {
            model.Baseline.Score(command.Texts, scores, cancellationToken);
        }

        var servedBy = reason is null ? ServedBy.Model : ServedBy.HeuristicFallback;
        var elapsed = Stopwatch.GetElapsedTime(arrival);
        metrics.TextServed(served.Name, servedBy, reason, elapsed.TotalSeconds, command.Texts.Count);
        return new TextResult(command.RequestId, served, scores, reason is null ? TextFamily.Encoder : TextFamily.Baseline, servedBy, reason, budgetMs,
            elapsed.TotalMilliseconds, reason == FallbackReason.NoModel ? 0 : encoderMs);
    }

    private async Task<FallbackReason?> EncoderAsync(
        ServedTextModel served, ITextScorer encoder, TextCommand command, double[] scores, long deadline, CircuitBreaker breaker, CancellationToken cancellationToken)
    {
        var remaining = Remaining(deadline);
        if (remaining <= TimeSpan.Zero)
        {
            breaker.Neutral();
            return FallbackReason.Timeout;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(remaining);
        try
        {
            var latency = faults.ModelLatency(command.RequestId);
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, budget.Token); // real time: injected latency competes with the real deadline
            }

            if (!await gate.EnterAsync(TimeSpan.FromMilliseconds(serving.ShedModelAboveWaitMs), Remaining(deadline), budget.Token))
            {
                breaker.Neutral();
                return FallbackReason.Overload;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            breaker.Neutral();
            return FallbackReason.Timeout;
        }

        // The encoder writes into its own array: a run that outlives the deadline must not write into the answer.
        var own = new double[scores.Length];
        var run = Task.Run(() =>
        {
            if (faults.ModelError(command.RequestId))
            {
                throw new InjectedFaultException("encoder");
            }

            encoder.Score(command.Texts, own, CancellationToken.None);
        }, CancellationToken.None);
        _ = run.ContinueWith(_ => gate.Exit(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await run.WaitAsync(Remaining(deadline) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
            if (own.Any(v => !double.IsFinite(v)))
            {
                throw new InvalidOperationException("The encoder head gave a non-finite score.");
            }

            own.CopyTo(scores, 0);
            breaker.Success();
            return null;
        }
        catch (TimeoutException)
        {
            breaker.Neutral(); // slow, not broken: the run finishes in the background with its turn
            _ = run.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return FallbackReason.Timeout;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            breaker.Failure();
            LogEncoderFailed(logger, served.Name, served.Version, command.RequestId, e);
            return FallbackReason.ModelError;
        }
    }

    private static TimeSpan Remaining(long deadline) => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);

    [LoggerMessage(EventId = LogEvents.TextEncoderFailed, Level = LogLevel.Warning, Message = "Text model {Name} ({Version}) failed on request {RequestId}; its baseline answered")]
    private static partial void LogEncoderFailed(ILogger logger, string name, string version, string requestId, Exception exception);
}
