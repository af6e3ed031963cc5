using System.Collections.Concurrent;
using System.Diagnostics;
using Lasthope.Core.Serving;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Predict;

/// <summary>A prediction request, validated: its rows encoded in the predictor's column order.</summary>
/// <param name="Rows">Row-major, <see cref="Predictor.FeatureCount"/> values per row; NaN is missing.</param>
/// <param name="Reasons">How many reasons per row (0 to 20).</param>
/// <param name="BudgetMs">The request's own budget (at most the predictor's), or null for the predictor's.</param>
public sealed record PredictCommand(string RequestId, double[] Rows, int RowCount, int Reasons, bool Counterfactual, double? BudgetMs);

/// <summary>The answer, with its served path: which rows the model answered, and why the others fell back.</summary>
/// <param name="ServedBy">
/// <c>model</c> (every row), <c>model_partial</c> (the model answered a prefix of the rows before the deadline, the
/// fallback the rest), or <c>heuristic_fallback</c> (the fallback answered every row, for <see cref="Reason"/>).
/// </param>
public sealed record PredictResult(
    string RequestId,
    Predictor Predictor,
    IReadOnlyList<Prediction> Rows,
    ServedBy ServedBy,
    FallbackReason? Reason,
    int ModelRows,
    double BudgetMs,
    double ElapsedMs,
    double ModelMs);

/// <summary>
/// Serves predictions under a deadline with the predictor's fallback as the last hope, the cascade of /v1/rank made
/// for rows: the budget counts from the complete request; the model scores and explains row by row on the request's
/// thread, inside a scoring turn (<see cref="ScoringGate"/>, shared with ranking), and the rows it has not reached by
/// the deadline are answered, and explained, by the fallback; a model error, an open circuit or no turn in time
/// give the fallback for every row. A row's score and its reasons always come from the same scorer.
/// </summary>
public sealed partial class PredictionService(
    ServingOptions serving,
    ScoringGate gate,
    FaultInjector faults,
    LasthopeMetrics metrics,
    TimeProvider time,
    ILogger<PredictionService> logger)
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);

    public async Task<PredictResult> PredictAsync(Predictor predictor, PredictCommand command, long arrival, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(command);
        arrival = arrival == 0 ? Stopwatch.GetTimestamp() : arrival;
        // A request may ask for less time than its predictor's budget, never more: the budget is the operator's bound
        // on how long one request holds a scoring turn.
        var budgetMs = Math.Min(command.BudgetMs ?? double.MaxValue, predictor.Package.BudgetMs);
        var deadline = arrival + (long)(budgetMs * Stopwatch.Frequency / 1000.0);
        // One circuit per version: a failing candidate asked for by version must not open the active one's circuit.
        var breaker = _breakers.GetOrAdd(predictor.Version, _ => new CircuitBreaker($"predict:{predictor.Name}:{predictor.Version}", serving.CircuitBreaker, time, logger));
        var rows = new Prediction[command.RowCount];
        var modelRows = 0;
        FallbackReason? reason = null;
        var modelStarted = Stopwatch.GetTimestamp();
        var modelEnded = modelStarted;

        if (!breaker.TryEnter())
        {
            reason = FallbackReason.CircuitOpen;
        }
        else
        {
            try
            {
                (modelRows, reason) = await ModelRowsAsync(predictor, command, rows, deadline, breaker, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                breaker.Neutral(); // the client went away: no verdict, and a half-open trial must not stay taken
                throw;
            }

            modelEnded = Stopwatch.GetTimestamp();
        }

        for (var r = modelRows; r < rows.Length; r++)
        {
            rows[r] = predictor.Predict(Row(command, predictor, r), PredictionSource.Fallback, command.Reasons, counterfactual: false);
        }

        var servedBy = modelRows == rows.Length ? ServedBy.Model : modelRows > 0 ? ServedBy.ModelPartial : ServedBy.HeuristicFallback;
        var elapsed = Stopwatch.GetElapsedTime(arrival);
        metrics.PredictServed(predictor.Name, servedBy, reason, elapsed.TotalSeconds, modelRows, rows.Length - modelRows);
        return new PredictResult(command.RequestId, predictor, rows, servedBy, servedBy == ServedBy.Model ? null : reason, modelRows, budgetMs,
            elapsed.TotalMilliseconds, Stopwatch.GetElapsedTime(modelStarted, modelEnded).TotalMilliseconds);
    }

    private async Task<(int ModelRows, FallbackReason? Reason)> ModelRowsAsync(
        Predictor predictor, PredictCommand command, Prediction[] rows, long deadline, CircuitBreaker breaker, CancellationToken cancellationToken)
    {
        var remaining = Remaining(deadline);
        if (remaining <= TimeSpan.Zero)
        {
            breaker.Neutral(); // not the model's doing: the request arrived with its budget spent
            return (0, FallbackReason.Timeout);
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
                return (0, FallbackReason.Overload);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            breaker.Neutral();
            return (0, FallbackReason.Timeout);
        }

        var scored = 0;
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (faults.ModelError(command.RequestId))
            {
                throw new InjectedFaultException("model");
            }

            // Row by row, the deadline checked before each: a row is explained by the scorer that scored it, so a row
            // the model cannot finish in time is the fallback's whole.
            for (; scored < rows.Length && Stopwatch.GetTimestamp() < deadline; scored++)
            {
                rows[scored] = predictor.Predict(Row(command, predictor, scored), PredictionSource.Model, command.Reasons, command.Counterfactual, deadline);
            }

            if (scored > 0)
            {
                breaker.Success(); // the model answered what it reached; a deadline is not an error
            }
            else
            {
                breaker.Neutral(); // admitted too late to score a row: no verdict on the model
            }

            return (scored, scored < rows.Length ? FallbackReason.Timeout : null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            breaker.Failure();
            LogModelFailed(logger, predictor.Name, predictor.Version, command.RequestId, e);
            return (0, FallbackReason.ModelError);
        }
        finally
        {
            // Not into the gate's average: that estimates a rank model stage for admission, and a 1,000-row request
            // with explanations is not one.
            gate.Exit();
        }
    }

    private static TimeSpan Remaining(long deadline) => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);

    private static ReadOnlySpan<double> Row(PredictCommand command, Predictor predictor, int r) =>
        command.Rows.AsSpan(r * predictor.FeatureCount, predictor.FeatureCount);

    [LoggerMessage(EventId = LogEvents.PredictorModelFailed, Level = LogLevel.Warning, Message = "Predictor {Name} ({Version}) failed on request {RequestId}; its fallback answered")]
    private static partial void LogModelFailed(ILogger logger, string name, string version, string requestId, Exception exception);
}
