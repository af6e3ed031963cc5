using System.Runtime.InteropServices;
using System.Text;
using Lasthope.Trees.Native.Interop;

namespace Lasthope.Trees.Native;

/// <summary>One validation metric after an iteration (LightGBM's name: <c>ndcg@10</c>, <c>binary_logloss</c>, <c>l2</c>).</summary>
public readonly record struct MetricValue(string Name, double Value);

/// <summary>What a training run reports after each iteration.</summary>
/// <param name="Iteration">1-based count of trees trained so far.</param>
/// <param name="Total">The iteration budget (<see cref="LightGbmTrainingOptions.Iterations"/>).</param>
/// <param name="Validation">The validation metrics, empty without a validation set.</param>
/// <param name="BestIteration">The best iteration so far by the early-stopping metric (the current one without validation).</param>
public sealed record TrainingProgress(int Iteration, int Total, IReadOnlyList<MetricValue> Validation, int BestIteration)
{
    /// <summary>The value of a metric by name, or null.</summary>
    public double? Metric(string name)
    {
        foreach (var m in Validation)
        {
            if (m.Name == name)
            {
                return m.Value;
            }
        }

        return null;
    }
}

/// <summary>The outcome of <see cref="LightGbmTrainer.Train"/>.</summary>
/// <param name="ModelText">The model as LightGBM text, with <see cref="IterationsKept"/> trees: load it with <see cref="TreeModel.FromLightGbm(string)"/>, or in Python with <c>lightgbm.Booster(model_str=...)</c>.</param>
/// <param name="BestIteration">The iteration with the best early-stopping metric (the last one without validation).</param>
/// <param name="IterationsRun">Iterations trained (more than kept when early stopping waited for an improvement).</param>
/// <param name="IterationsKept">Iterations in the model: <see cref="BestIteration"/> with early stopping, else all that ran.</param>
/// <param name="EarlyStoppingMetric">The metric that chose <see cref="BestIteration"/>, or null without validation.</param>
/// <param name="History">Every iteration's report.</param>
public sealed record TrainingResult(string ModelText, int BestIteration, int IterationsRun, int IterationsKept, string? EarlyStoppingMetric, IReadOnlyList<TrainingProgress> History)
{
    /// <summary>The early-stopping metric at <see cref="BestIteration"/>.</summary>
    public double? BestMetric => EarlyStoppingMetric is null || BestIteration == 0 ? null : History[BestIteration - 1].Metric(EarlyStoppingMetric);
}

/// <summary>
/// Trains gradient-boosted trees with native LightGBM (lambdarank, binary, regression, multiclass), one iteration at a time so that
/// the caller sees progress, can cancel, and gets early stopping on a validation set. The result is LightGBM model
/// text: a model trained here and one trained in Python load the same way.
/// </summary>
public static unsafe class LightGbmTrainer
{
    /// <summary>Trains a model.</summary>
    /// <param name="options">Parameters, including the explicit thread count and seed.</param>
    /// <param name="train">The training rows.</param>
    /// <param name="validation">Rows for the metrics and early stopping; binned with the training set's bins.</param>
    /// <param name="progress">Called after each iteration, on the calling thread.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    /// <exception cref="LightGbmException">LightGBM refused the data or the parameters.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static TrainingResult Train(
        LightGbmTrainingOptions options,
        TrainingData train,
        TrainingData? validation = null,
        Action<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Iterations);
        train.Validate("training");
        validation?.Validate("validation");
        if (validation is not null && validation.Columns != train.Columns)
        {
            throw new ArgumentException($"The validation set has {validation.Columns} features, the training set {train.Columns}.", nameof(validation));
        }

        if (options.Objective == LightGbmObjective.LambdaRank && (train.Groups.IsEmpty || (validation is not null && validation.Groups.IsEmpty)))
        {
            throw new ArgumentException("lambdarank needs query groups in the training and validation sets.");
        }

        var parameters = options.ToParameterString();
        using var trainSet = CreateDataset(train, parameters, null, options.FeatureNames);
        using var validSet = validation is null ? null : CreateDataset(validation, parameters, trainSet, options.FeatureNames);
        LightGbmException.Check(NativeMethods.BoosterCreate(trainSet, parameters, out var handle));
        using var booster = new LightGbmBooster(handle);
        string[] names = [];
        if (validSet is not null)
        {
            LightGbmException.Check(NativeMethods.BoosterAddValidData(booster.Handle, validSet));
            names = EvalNames(booster.Handle);
        }

        var metric = validSet is null ? null : options.EarlyStoppingMetric ?? names.LastOrDefault();
        if (metric is not null && !names.Contains(metric))
        {
            throw new ArgumentException($"Early stopping metric '{metric}' is not one LightGBM reports ({string.Join(", ", names)}).", nameof(options));
        }

        var higherIsBetter = metric is not null && HigherIsBetter(metric);
        var history = new List<TrainingProgress>();
        var results = new double[Math.Max(1, names.Length)];
        var best = 0;
        var bestValue = double.NaN;
        for (var iteration = 1; iteration <= options.Iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LightGbmException.Check(NativeMethods.BoosterUpdateOneIter(booster.Handle, out var finished));
            if (finished != 0)
            {
                // LightGBM cannot split any further: the last iteration added nothing.
                break;
            }

            var metrics = Array.Empty<MetricValue>();
            if (validSet is not null)
            {
                fixed (double* r = results)
                {
                    LightGbmException.Check(NativeMethods.BoosterGetEval(booster.Handle, 1, out var count, r));
                    metrics = new MetricValue[count];
                    for (var i = 0; i < count; i++)
                    {
                        metrics[i] = new MetricValue(names[i], r[i]);
                    }
                }
            }

            var value = metric is null ? double.NaN : metrics.First(m => m.Name == metric).Value;
            if (metric is null || best == 0 || (higherIsBetter ? value > bestValue : value < bestValue))
            {
                best = iteration;
                bestValue = value;
            }

            var report = new TrainingProgress(iteration, options.Iterations, metrics, best);
            history.Add(report);
            progress?.Invoke(report);
            if (options.EarlyStoppingRounds > 0 && metric is not null && iteration - best >= options.EarlyStoppingRounds)
            {
                break;
            }
        }

        var kept = metric is not null && options.EarlyStoppingRounds > 0 ? best : history.Count;
        return new TrainingResult(booster.SaveModelToString(kept), best, history.Count, kept, metric, history);
    }

    private static DatasetHandle CreateDataset(TrainingData data, string parameters, DatasetHandle? reference, IReadOnlyList<string>? featureNames)
    {
        DatasetHandle handle;
        var addedRef = false;
        try
        {
            reference?.DangerousAddRef(ref addedRef);
            fixed (double* features = data.Features.Span)
            {
                LightGbmException.Check(NativeMethods.DatasetCreateFromMat(features, NativeMethods.DTypeFloat64, data.Rows, data.Columns, 1, parameters,
                    reference?.DangerousGetHandle() ?? 0, out handle));
            }
        }
        finally
        {
            if (addedRef)
            {
                reference!.DangerousRelease();
            }
        }

        try
        {
            fixed (float* labels = data.Labels.Span)
            {
                LightGbmException.Check(NativeMethods.DatasetSetField(handle, "label", labels, data.Rows, NativeMethods.DTypeFloat32));
            }

            if (!data.Groups.IsEmpty)
            {
                fixed (int* groups = data.Groups.Span)
                {
                    LightGbmException.Check(NativeMethods.DatasetSetField(handle, "group", groups, data.Groups.Length, NativeMethods.DTypeInt32));
                }
            }

            if (!data.Positions.IsEmpty)
            {
                fixed (int* positions = data.Positions.Span)
                {
                    LightGbmException.Check(NativeMethods.DatasetSetField(handle, "position", positions, data.Positions.Length, NativeMethods.DTypeInt32));
                }
            }

            if (!data.Weights.IsEmpty)
            {
                fixed (float* weights = data.Weights.Span)
                {
                    LightGbmException.Check(NativeMethods.DatasetSetField(handle, "weight", weights, data.Weights.Length, NativeMethods.DTypeFloat32));
                }
            }

            if (featureNames is not null)
            {
                SetFeatureNames(handle, featureNames, data.Columns);
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void SetFeatureNames(DatasetHandle handle, IReadOnlyList<string> names, int columns)
    {
        if (names.Count != columns)
        {
            throw new ArgumentException($"{names.Count} feature names for {columns} features.");
        }

        var pointers = new nint[names.Count];
        try
        {
            for (var i = 0; i < names.Count; i++)
            {
                if (names[i].Any(char.IsWhiteSpace) || names[i].Length == 0)
                {
                    throw new ArgumentException($"Feature name '{names[i]}' is empty or contains white space, which LightGBM's text format cannot hold.");
                }

                pointers[i] = Marshal.StringToCoTaskMemUTF8(names[i]);
            }

            fixed (nint* p = pointers)
            {
                LightGbmException.Check(NativeMethods.DatasetSetFeatureNames(handle, p, names.Count));
            }
        }
        finally
        {
            foreach (var p in pointers)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    private static string[] EvalNames(BoosterHandle handle)
    {
        LightGbmException.Check(NativeMethods.BoosterGetEvalCounts(handle, out var count));
        if (count == 0)
        {
            return [];
        }

        nuint width = 128;
        while (true)
        {
            var buffers = new byte[count][];
            var pointers = new GCHandle[count];
            var raw = new byte*[count];
            try
            {
                for (var i = 0; i < count; i++)
                {
                    buffers[i] = new byte[(int)width];
                    pointers[i] = GCHandle.Alloc(buffers[i], GCHandleType.Pinned);
                    raw[i] = (byte*)pointers[i].AddrOfPinnedObject();
                }

                fixed (byte** p = raw)
                {
                    LightGbmException.Check(NativeMethods.BoosterGetEvalNames(handle, count, out var written, width, out var required, p));
                    if (required > width)
                    {
                        width = required;
                        continue;
                    }

                    var names = new string[written];
                    for (var i = 0; i < written; i++)
                    {
                        var end = Array.IndexOf(buffers[i], (byte)0);
                        names[i] = Encoding.UTF8.GetString(buffers[i], 0, end < 0 ? buffers[i].Length : end);
                    }

                    return names;
                }
            }
            finally
            {
                foreach (var h in pointers)
                {
                    if (h.IsAllocated)
                    {
                        h.Free();
                    }
                }
            }
        }
    }

    /// <summary>Ranking metrics and AUC improve upwards; losses and errors downwards.</summary>
    private static bool HigherIsBetter(string metric) =>
        metric.StartsWith("ndcg", StringComparison.Ordinal) || metric.StartsWith("map", StringComparison.Ordinal)
        || metric.StartsWith("auc", StringComparison.Ordinal) || metric.StartsWith("average_precision", StringComparison.Ordinal);
}
