using Lasthope.Server.Predict;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Lasthope.Training.Tabular;

/// <summary>
/// The linear baseline beside every tree model, trained by ML.NET on the same rows: L-BFGS logistic regression
/// (binary), L-BFGS maximum entropy (multiclass) or SDCA least squares (regression), each with ML.NET's default L2
/// penalty. Its inputs are Lasthope's own encoding (numbers standardised with the training mean and standard
/// deviation, a missing number at its mean; one indicator per category, the <see cref="MaxIndicators"/> most frequent
/// of a column), so its weights become a <see cref="Scorecard"/> the server evaluates without ML.NET: the
/// predictor's fallback.
/// </summary>
public static class LinearBaseline
{
    /// <summary>Indicators per categorical column at most; rarer categories weigh 0.</summary>
    public const int MaxIndicators = 100;

    private sealed class BinaryRow
    {
        public bool Label { get; set; }

        public float Weight { get; set; }

        public float[] Features { get; set; } = [];
    }

    private sealed class RegressionRow
    {
        public float Label { get; set; }

        public float Weight { get; set; }

        public float[] Features { get; set; } = [];
    }

    private sealed class MulticlassRow
    {
        public uint Label { get; set; }

        public float Weight { get; set; }

        public float[] Features { get; set; } = [];
    }

    /// <summary>Trains the baseline on <paramref name="x"/> (encoded rows) and returns it as a scorecard.</summary>
    /// <param name="labels">Binary 0/1, a value, or a class index.</param>
    /// <param name="weights">Per-row weights, or empty.</param>
    public static Scorecard Train(PredictionTask task, IReadOnlyList<PredictorFeature> features, double[] x, double[] labels, float[] weights, int classes, int seed)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(labels);
        var terms = Terms(features, x, labels.Length);
        var z = Standardise(terms, features, x, labels.Length);
        var ml = new MLContext(seed);
        var width = terms.Count;
        float W(int i) => weights.Length == 0 ? 1f : weights[i];
        switch (task)
        {
            case PredictionTask.Binary:
            {
                var data = Load(ml, Enumerable.Range(0, labels.Length).Select(i => new BinaryRow { Label = labels[i] > 0, Weight = W(i), Features = z[i] }), width);
                var trainer = ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options { ExampleWeightColumnName = "Weight", NumberOfThreads = 1 });
                var model = trainer.Fit(data).Model.SubModel;
                return Card([model.Bias], terms, k => model.Weights[k], 1);
            }

            case PredictionTask.Regression:
            {
                var data = Load(ml, Enumerable.Range(0, labels.Length).Select(i => new RegressionRow { Label = (float)labels[i], Weight = W(i), Features = z[i] }), width);
                var trainer = ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options { ExampleWeightColumnName = "Weight", NumberOfThreads = 1 });
                var model = trainer.Fit(data).Model;
                return Card([model.Bias], terms, k => model.Weights[k], 1);
            }

            default:
            {
                var data = Load(ml, Enumerable.Range(0, labels.Length).Select(i => new MulticlassRow { Label = (uint)labels[i] + 1, Weight = W(i), Features = z[i] }), width, classes);
                var trainer = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { ExampleWeightColumnName = "Weight", NumberOfThreads = 1 });
                var model = trainer.Fit(data).Model;
                VBuffer<float>[] perClass = [];
                model.GetWeights(ref perClass, out var count);
                var biases = model.GetBiases().Select(b => (double)b).ToArray();
                if (count != classes)
                {
                    throw new InvalidOperationException($"ML.NET's maximum entropy model has {count} classes, the data {classes}.");
                }

                var dense = perClass.Select(v => v.DenseValues().ToArray()).ToArray();
                return Card(biases, terms, k => 0, classes, (k, c) => dense[c][k]);
            }
        }
    }

    private static IDataView Load<T>(MLContext ml, IEnumerable<T> rows, int width, int classes = 0)
        where T : class
    {
        var schema = SchemaDefinition.Create(typeof(T));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        if (classes > 0)
        {
            schema["Label"].ColumnType = new KeyDataViewType(typeof(uint), classes);
        }

        return ml.Data.LoadFromEnumerable(rows.ToList(), schema);
    }

    private static Scorecard Card(double[] intercepts, List<ScorecardTerm> terms, Func<int, float> weight, int outputs, Func<int, int, float>? classWeight = null) =>
        new(intercepts, [.. terms.Select((t, k) => t with { Weights = classWeight is null ? [weight(k)] : [.. Enumerable.Range(0, outputs).Select(c => (double)classWeight(k, c))] })]);

    /// <summary>The terms (weights still empty): one per number, one per kept category, with their training statistics.</summary>
    private static List<ScorecardTerm> Terms(IReadOnlyList<PredictorFeature> features, double[] x, int rows)
    {
        var columns = features.Count;
        var terms = new List<ScorecardTerm>();
        for (var c = 0; c < columns; c++)
        {
            if (features[c].Categories is { } categories)
            {
                var counts = new int[categories.Count];
                for (var r = 0; r < rows; r++)
                {
                    if (!double.IsNaN(x[r * columns + c]))
                    {
                        counts[(int)x[r * columns + c]]++;
                    }
                }

                foreach (var code in Enumerable.Range(0, categories.Count).Where(i => counts[i] > 0).OrderByDescending(i => counts[i]).ThenBy(i => i).Take(MaxIndicators).Order())
                {
                    terms.Add(new ScorecardTerm(features[c].Name, categories[code], [], Share: counts[code] / (double)rows));
                }

                continue;
            }

            double sum = 0, squares = 0;
            var present = 0;
            for (var r = 0; r < rows; r++)
            {
                var v = x[r * columns + c];
                if (!double.IsNaN(v))
                {
                    sum += v;
                    squares += v * v;
                    present++;
                }
            }

            var mean = present == 0 ? 0 : sum / present;
            var sd = present == 0 ? 0 : Math.Sqrt(Math.Max(0, squares / present - mean * mean));
            terms.Add(new ScorecardTerm(features[c].Name, null, [], mean, sd > 1e-12 ? sd : 1));
        }

        return terms;
    }

    private static float[][] Standardise(List<ScorecardTerm> terms, IReadOnlyList<PredictorFeature> features, double[] x, int rows)
    {
        var columns = features.Count;
        var columnOf = features.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        var termColumns = terms.Select(t => columnOf[t.Feature]).ToArray();
        var termCodes = terms.Select((t, k) => t.Category is null ? -1 : features[termColumns[k]].Categories!.ToList().IndexOf(t.Category)).ToArray();
        var z = new float[rows][];
        for (var r = 0; r < rows; r++)
        {
            var row = z[r] = new float[terms.Count];
            for (var k = 0; k < terms.Count; k++)
            {
                var v = x[r * columns + termColumns[k]];
                row[k] = termCodes[k] >= 0 ? (v == termCodes[k] ? 1f : 0f) : double.IsNaN(v) ? 0f : (float)((v - terms[k].Mean) / terms[k].Scale);
            }
        }

        return z;
    }
}
