using System.Text;
using Lasthope.Trees.Native.Interop;

namespace Lasthope.Trees.Native;

/// <summary>What <see cref="LightGbmBooster.Predict(ReadOnlySpan{double}, int, int, LightGbmPrediction, Span{double}, int)"/> computes.</summary>
public enum LightGbmPrediction
{
    /// <summary>The objective's prediction (C_API_PREDICT_NORMAL): a probability for binary models.</summary>
    Normal = NativeMethods.PredictNormal,

    /// <summary>The raw score (C_API_PREDICT_RAW_SCORE), one per row.</summary>
    RawScore = NativeMethods.PredictRawScore,

    /// <summary>The leaf index in each tree (C_API_PREDICT_LEAF_INDEX), trees per row, as doubles.</summary>
    LeafIndex = NativeMethods.PredictLeafIndex,

    /// <summary>SHAP contributions (C_API_PREDICT_CONTRIB), features + 1 per row, the bias last.</summary>
    Contributions = NativeMethods.PredictContrib,
}

/// <summary>
/// A lib_lightgbm booster: the native model, for training and as the reference the evaluator is tested and benchmarked
/// against. Not for serving (use <see cref="TreeModel"/>). Not thread-safe; dispose it to free the native memory.
/// </summary>
public sealed unsafe class LightGbmBooster : IDisposable
{
    internal LightGbmBooster(BoosterHandle handle) => Handle = handle;

    internal BoosterHandle Handle { get; }

    /// <summary>Loads LightGBM model text with <c>LGBM_BoosterLoadModelFromString</c>.</summary>
    public static LightGbmBooster FromString(string modelText)
    {
        ArgumentNullException.ThrowIfNull(modelText);
        LightGbmException.Check(NativeMethods.BoosterLoadModelFromString(modelText, out _, out var handle));
        return new LightGbmBooster(handle);
    }

    /// <summary>Loads a model file with <c>LGBM_BoosterCreateFromModelfile</c>.</summary>
    public static LightGbmBooster FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        LightGbmException.Check(NativeMethods.BoosterCreateFromModelfile(path, out _, out var handle));
        return new LightGbmBooster(handle);
    }

    /// <summary>Number of input features.</summary>
    public int FeatureCount
    {
        get
        {
            LightGbmException.Check(NativeMethods.BoosterGetNumFeature(Handle, out var count));
            return count;
        }
    }

    /// <summary>Iterations trained or loaded.</summary>
    public int CurrentIteration
    {
        get
        {
            LightGbmException.Check(NativeMethods.BoosterGetCurrentIteration(Handle, out var iteration));
            return iteration;
        }
    }

    /// <summary>Number of output values <see cref="Predict(ReadOnlySpan{double}, int, int, LightGbmPrediction, Span{double}, int)"/> writes for <paramref name="rows"/> rows.</summary>
    public long OutputLength(int rows, LightGbmPrediction kind)
    {
        LightGbmException.Check(NativeMethods.BoosterCalcNumPredict(Handle, rows, (int)kind, 0, -1, out var length));
        return length;
    }

    /// <summary>
    /// <c>LGBM_BoosterPredictForMat</c> on a row-major double matrix, with all iterations, into
    /// <paramref name="output"/> (at least <see cref="OutputLength"/> values). Allocates nothing managed.
    /// </summary>
    /// <param name="features">Row-major values, <paramref name="rows"/> by <paramref name="columns"/>; NaN is missing.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Values per row.</param>
    /// <param name="kind">What to compute.</param>
    /// <param name="output">Receives the predictions, row by row.</param>
    /// <param name="threads">OpenMP threads for this call (LightGBM's num_threads).</param>
    public void Predict(ReadOnlySpan<double> features, int rows, int columns, LightGbmPrediction kind, Span<double> output, int threads = 1) =>
        PredictCore(features, NativeMethods.DTypeFloat64, rows, columns, kind, output, threads);

    /// <summary>As the double overload, on a float matrix (C_API_DTYPE_FLOAT32).</summary>
    public void Predict(ReadOnlySpan<float> features, int rows, int columns, LightGbmPrediction kind, Span<double> output, int threads = 1) =>
        PredictCore(features, NativeMethods.DTypeFloat32, rows, columns, kind, output, threads);

    /// <summary>Convenience: predictions of one kind as a new array.</summary>
    public double[] Predict(ReadOnlySpan<double> features, int rows, int columns, LightGbmPrediction kind, int threads = 1)
    {
        var output = new double[OutputLength(rows, kind)];
        Predict(features, rows, columns, kind, output, threads);
        return output;
    }

    private void PredictCore<T>(ReadOnlySpan<T> features, int dataType, int rows, int columns, LightGbmPrediction kind, Span<double> output, int threads)
        where T : unmanaged
    {
        if ((long)rows * columns > features.Length)
        {
            throw new ArgumentException($"{rows} rows of {columns} columns need {(long)rows * columns} values, got {features.Length}.", nameof(features));
        }

        var parameters = ThreadParameter(threads);
        fixed (T* data = features)
        fixed (double* result = output)
        {
            // lib_lightgbm does not take the output length; check it first so it cannot write past the span.
            LightGbmException.Check(NativeMethods.BoosterCalcNumPredict(Handle, rows, (int)kind, 0, -1, out var needed));
            if (needed > output.Length)
            {
                throw new ArgumentException($"The prediction needs {needed} values, the output holds {output.Length}.", nameof(output));
            }

            LightGbmException.Check(NativeMethods.BoosterPredictForMat(Handle, data, dataType, rows, columns, 1, (int)kind, 0, -1, parameters, out _, result));
        }
    }

    private static readonly string[] ThreadParameters = [.. Enumerable.Range(0, 65).Select(i => $"num_threads={i}")];

    private static string ThreadParameter(int threads) =>
        threads is >= 0 and < 65 ? ThreadParameters[threads] : $"num_threads={threads}";

    /// <summary>The model as LightGBM text (<c>LGBM_BoosterSaveModelToString</c>).</summary>
    /// <param name="iterations">Iterations to keep from the first; 0 or less keeps all.</param>
    public string SaveModelToString(int iterations = 0)
    {
        LightGbmException.Check(NativeMethods.BoosterSaveModelToString(Handle, 0, iterations, 0, 0, out var length, null));
        var buffer = new byte[length];
        fixed (byte* b = buffer)
        {
            LightGbmException.Check(NativeMethods.BoosterSaveModelToString(Handle, 0, iterations, 0, length, out length, b));
        }

        // The length counts the terminating NUL.
        var end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end);
    }

    /// <summary>Frees the native booster (LGBM_BoosterFree).</summary>
    public void Dispose() => Handle.Dispose();
}
