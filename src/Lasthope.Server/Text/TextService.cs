using System.Collections.Concurrent;
using System.Diagnostics;
using Lasthope.Core.Serving;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;
using Lasthope.Text;
using Lasthope.Text.EditNeed;
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

/// <summary>A document's edit need, with its served path (<c>model</c>: with the encoder; <c>heuristic_fallback</c>: the text features alone).</summary>
public sealed record EditNeedResult(string RequestId, ServedEditNeedModel Model, EditNeedPrediction Prediction, ServedBy ServedBy, FallbackReason? Reason, double BudgetMs, double ElapsedMs);

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
        var started = Stopwatch.GetTimestamp();
        double[]? scores = null;
        FallbackReason? reason = FallbackReason.NoModel;
        if (model.Encoder is { } encoder)
        {
            (scores, reason) = await WithinBudgetAsync($"text:{served.Name}:{served.Version}", command.RequestId, arrival, budgetMs, stop =>
            {
                var own = new double[command.Texts.Count * model.Outputs];
                encoder.Score(command.Texts, own, stop);
                return own.All(double.IsFinite) ? own : throw new InvalidOperationException("The encoder head gave a non-finite score.");
            }, cancellationToken);
        }

        var encoderMs = reason == FallbackReason.NoModel ? 0 : Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (scores is null)
        {
            scores = new double[command.Texts.Count * model.Outputs];
            model.Baseline.Score(command.Texts, scores, cancellationToken);
        }

        var servedBy = reason is null ? ServedBy.Model : ServedBy.HeuristicFallback;
        var elapsed = Stopwatch.GetElapsedTime(arrival);
        metrics.TextServed(served.Name, servedBy, reason, elapsed.TotalSeconds, command.Texts.Count);
        return new TextResult(command.RequestId, served, scores, reason is null ? TextFamily.Encoder : TextFamily.Baseline, servedBy, reason, budgetMs,
            elapsed.TotalMilliseconds, encoderMs);
    }

    /// <summary>
    /// A document's edit need: the trees over the text features and the encoder's vectors within the budget, else the
    /// trees over the text features alone (the model's last hope: no encoder call).
    /// </summary>
    public async Task<EditNeedResult> EditNeedAsync(ServedEditNeedModel served, string requestId, string document, double? requestBudgetMs, long arrival, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(served);
        arrival = arrival == 0 ? Stopwatch.GetTimestamp() : arrival;
        var budgetMs = Math.Min(requestBudgetMs ?? double.MaxValue, served.BudgetMs);
        EditNeedPrediction? prediction = null;
        FallbackReason? reason = FallbackReason.NoModel;
        if (served.Model.UsesEncoder)
        {
            (prediction, reason) = await WithinBudgetAsync($"edit-need:{served.Version}", requestId, arrival, budgetMs,
                stop => served.Model.Predict(document, useEncoder: true, stop), cancellationToken);
        }

        prediction ??= served.Model.Predict(document, useEncoder: false, cancellationToken);
        var servedBy = reason is null ? ServedBy.Model : ServedBy.HeuristicFallback;
        var elapsed = Stopwatch.GetElapsedTime(arrival);
        metrics.TextServed(served.Name, servedBy, reason, elapsed.TotalSeconds, prediction.Units.Count);
        return new EditNeedResult(requestId, served, prediction, servedBy, reason, budgetMs, elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// Runs an encoder call within the budget: its circuit, injected faults and a scoring turn first; then the call on
    /// the thread pool, waited for until the deadline. Null and the reason when it did not answer in time or failed.
    /// The call's token is cancelled at the deadline or when the client goes away, which stops the encoder between two
    /// of its operators (ONNX Runtime's terminate flag): a late call gives its core back to the requests behind it.
    /// </summary>
    private async Task<(T? Value, FallbackReason? Reason)> WithinBudgetAsync<T>(
        string circuit, string requestId, long arrival, double budgetMs, Func<CancellationToken, T> run, CancellationToken cancellationToken)
        where T : class
    {
        var deadline = arrival + (long)(budgetMs * Stopwatch.Frequency / 1000.0);
        var breaker = _breakers.GetOrAdd(circuit, key => new CircuitBreaker(key, serving.CircuitBreaker, time, logger));
        if (!breaker.TryEnter())
        {
            return (null, FallbackReason.CircuitOpen);
        }

        try
        {
            return await EnteredAsync(breaker, requestId, deadline, run, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            breaker.Neutral(); // the client went away: no verdict, and a half-open trial must not stay taken
            throw;
        }
    }

    private async Task<(T? Value, FallbackReason? Reason)> EnteredAsync<T>(CircuitBreaker breaker, string requestId, long deadline, Func<CancellationToken, T> run, CancellationToken cancellationToken)
        where T : class
    {
        var remaining = Remaining(deadline);
        if (remaining <= TimeSpan.Zero)
        {
            breaker.Neutral();
            return (null, FallbackReason.Timeout);
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(remaining);
        try
        {
            var latency = faults.ModelLatency(requestId);
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, budget.Token); // real time: injected latency competes with the real deadline
            }

            if (!await gate.EnterAsync(TimeSpan.FromMilliseconds(serving.ShedModelAboveWaitMs), Remaining(deadline), budget.Token))
            {
                breaker.Neutral();
                return (null, FallbackReason.Overload);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            breaker.Neutral();
            return (null, FallbackReason.Timeout);
        }

        // The call owns its stop source: it outlives this method when the call is late, and is disposed when the call ends.
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stopped = stop.Token;
        stop.CancelAfter(Remaining(deadline) is var r && r > TimeSpan.Zero ? r : TimeSpan.Zero);
        var call = Task.Run(() => faults.ModelError(requestId) ? throw new InjectedFaultException("encoder") : run(stopped), CancellationToken.None);
        _ = call.ContinueWith(
            t =>
            {
                gate.Exit();
                _ = t.Exception; // a late call's failure (its own stop, most often) is observed here
                stop.Dispose();
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            var left = Remaining(deadline);
            var value = await call.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
            breaker.Success();
            return (value, null);
        }
        catch (TimeoutException)
        {
            breaker.Neutral(); // slow, not broken: the call is stopped and gives its turn back when it ends
            CancelQuietly(stop);
            return (null, FallbackReason.Timeout);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested && stopped.IsCancellationRequested)
        {
            // Stopped at the deadline a moment before the wait saw it (the timer rounds to milliseconds): a timeout.
            breaker.Neutral();
            return (null, FallbackReason.Timeout);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Any other failure, a cancellation the encoder made up included, is the model's error: the baseline answers.
            breaker.Failure();
            LogEncoderFailed(logger, requestId, e);
            return (null, FallbackReason.ModelError);
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call ended in the meantime and disposed its source.
        }
    }

    private static TimeSpan Remaining(long deadline) => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);

    [LoggerMessage(EventId = LogEvents.TextEncoderFailed, Level = LogLevel.Warning, Message = "Text request {RequestId}: the encoder family failed; the model's last hope answered")]
    private static partial void LogEncoderFailed(ILogger logger, string requestId, Exception exception);
}
