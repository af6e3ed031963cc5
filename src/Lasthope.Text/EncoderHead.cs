using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Lasthope.Text;

/// <summary>
/// A linear head over an encoder's vectors: for output k, z_k = b_k + Σ_j w_kj x_j; classify: softmax over z (a
/// multinomial logistic regression), regress: z_0 itself. Row-major weights, <see cref="Outputs"/> x
/// <see cref="Dimensions"/>. Immutable and thread-safe; it scores without ML.NET.
/// </summary>
public sealed class LinearHead
{
    public LinearHead(TextTask task, int dimensions, double[] bias, double[] weights)
    {
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (weights.Length != bias.Length * dimensions || bias.Length == 0 || (task == TextTask.Regress && bias.Length != 1))
        {
            throw new ArgumentException($"{bias.Length} biases and {weights.Length} weights do not make a head of {dimensions} dimensions.", nameof(weights));
        }

        Task = task;
        Dimensions = dimensions;
        Bias = bias;
        Weights = weights;
    }

    public TextTask Task { get; }

    public int Dimensions { get; }

    public int Outputs => Bias.Length;

    public double[] Bias { get; }

    public double[] Weights { get; }

    /// <summary>Writes <see cref="Outputs"/> values for <paramref name="x"/>: probabilities (classify) or the value.</summary>
    public void Score(ReadOnlySpan<float> x, Span<double> output)
    {
        if (x.Length != Dimensions || output.Length != Outputs)
        {
            throw new ArgumentException($"A vector of {x.Length} for a head of {Dimensions} dimensions and {Outputs} outputs.", nameof(x));
        }

        var max = double.NegativeInfinity;
        for (var k = 0; k < Outputs; k++)
        {
            var row = Weights.AsSpan(k * Dimensions, Dimensions);
            var z = Bias[k];
            for (var j = 0; j < row.Length; j++)
            {
                z += row[j] * x[j];
            }

            output[k] = z;
            max = Math.Max(max, z);
        }

        if (Task == TextTask.Regress)
        {
            return;
        }

        // Softmax with the largest logit subtracted, so exp never overflows.
        var sum = 0.0;
        for (var k = 0; k < Outputs; k++)
        {
            output[k] = Math.Exp(output[k] - max);
            sum += output[k];
        }

        for (var k = 0; k < Outputs; k++)
        {
            output[k] /= sum;
        }
    }

    /// <summary>
    /// Trains the head with ML.NET on the vectors scaled by sqrt(dimensions) (a unit vector's components are small,
    /// which slows L-BFGS), the scale then folded into the weights. Classify: L-BFGS maximum entropy
    /// (multinomial logistic regression, ML.NET's default L1 and L2 penalties); regress: SDCA least squares.
    /// </summary>
    /// <param name="labels">Class indices in [0, <paramref name="classes"/>) or values.</param>
    public static LinearHead Train(TextTask task, float[][] vectors, IReadOnlyList<double> labels, int classes, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(labels);
        if (vectors.Length != labels.Count || vectors.Length == 0)
        {
            throw new ArgumentException($"{vectors.Length} vectors and {labels.Count} labels.", nameof(labels));
        }

        // Unit vectors' components have a mean square of 1/d; scaled by sqrt(d) they are of unit size on average, which
        // suits L-BFGS and the default penalties. One scale for all dimensions (not a per-dimension standardisation,
        // whose folded weights blow up on a near-constant dimension): w' = w sqrt(d).
        var d = vectors[0].Length;
        var scale = Math.Sqrt(d);
        float[] Z(float[] v)
        {
            var z = new float[d];
            for (var j = 0; j < d; j++)
            {
                z[j] = (float)(v[j] * scale);
            }

            return z;
        }

        var ml = new MLContext(seed);
        cancellationToken.ThrowIfCancellationRequested(); // ML.NET's trainers cannot be interrupted; a cancelled run stops before and after
        double[] bias;
        double[] weights;
        if (task == TextTask.Classify)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
            var schema = SchemaDefinition.Create(typeof(ClassRow));
            schema[nameof(ClassRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
            var data = TfIdfBaseline.KeyedLabels(ml, ml.Data.LoadFromEnumerable(vectors.Select((v, i) => new ClassRow { Features = Z(v), Label = (uint)labels[i] }).ToList(), schema), classes);
            var model = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = 1 }).Fit(data).Model;
            VBuffer<float>[] perClass = [];
            model.GetWeights(ref perClass, out var count);
            if (count != classes)
            {
                throw new InvalidOperationException($"ML.NET's maximum entropy model has {count} classes, the data {classes}.");
            }

            bias = [.. model.GetBiases().Select(b => (double)b)];
            weights = new double[classes * d];
            for (var k = 0; k < classes; k++)
            {
                var w = perClass[k].DenseValues().ToArray();
                for (var j = 0; j < d; j++)
                {
                    weights[k * d + j] = w[j];
                }
            }
        }
        else
        {
            var schema = SchemaDefinition.Create(typeof(ValueRow));
            schema[nameof(ValueRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
            var data = ml.Data.LoadFromEnumerable(vectors.Select((v, i) => new ValueRow { Features = Z(v), Label = (float)labels[i] }).ToList(), schema);
            var model = ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options { NumberOfThreads = 1 }).Fit(data).Model;
            bias = [model.Bias];
            weights = [.. model.Weights.Select(w => (double)w)];
        }

        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] *= scale;
        }

        return new LinearHead(task, d, bias, weights);
    }

    private sealed class ClassRow
    {
        public float[] Features { get; set; } = [];

        public uint Label { get; set; }
    }

    private sealed class ValueRow
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }
}

/// <summary>The encoder family: the texts encoded in batches of <see cref="BatchSize"/>, then the linear head.</summary>
public sealed class EncoderScorer : ITextScorer
{
    public const int DefaultBatchSize = 32;

    public EncoderScorer(ITextEncoder encoder, LinearHead head, int batchSize = DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (encoder.Dimensions != head.Dimensions)
        {
            throw new ArgumentException($"The encoder gives {encoder.Dimensions} dimensions, the head takes {head.Dimensions}.", nameof(head));
        }

        Encoder = encoder;
        Head = head;
        BatchSize = batchSize;
    }

    public TextFamily Family => TextFamily.Encoder;

    public ITextEncoder Encoder { get; }

    public LinearHead Head { get; }

    public int BatchSize { get; }

    public void Score(IReadOnlyList<string> texts, Span<double> output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var outputs = Head.Outputs;
        if (output.Length != texts.Count * outputs)
        {
            throw new ArgumentException($"{output.Length} outputs for {texts.Count} texts of {outputs} values.", nameof(output));
        }

        for (var start = 0; start < texts.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(BatchSize, texts.Count - start);
            var batch = new string[count];
            for (var i = 0; i < count; i++)
            {
                batch[i] = texts[start + i];
            }

            var vectors = Encoder.Encode(batch, cancellationToken);
            for (var i = 0; i < count; i++)
            {
                Head.Score(vectors[i], output.Slice((start + i) * outputs, outputs));
            }
        }
    }

    /// <summary>Scores vectors already encoded (training and evaluation encode once and reuse them).</summary>
    public void ScoreVectors(float[][] vectors, Span<double> output)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        for (var i = 0; i < vectors.Length; i++)
        {
            Head.Score(vectors[i], output.Slice(i * Head.Outputs, Head.Outputs));
        }
    }
}
