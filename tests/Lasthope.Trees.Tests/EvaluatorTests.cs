using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>The scoring contract the deadline cascade relies on: order, determinism, prefixes, cancellation, no allocation.</summary>
public sealed class EvaluatorTests
{
    private static readonly Lazy<(TreeModel Model, double[] X, double[] Expected)> Case = new(() =>
    {
        var text = Synthetic.Train(LightGbmObjective.Regression, 9, p => p["num_iterations"] = "40").ModelText;
        var model = TreeModel.FromLightGbm(text);
        var (x, _, _) = Synthetic.Make(1000, 77, ranking: false);
        using var booster = LightGbmBooster.FromString(text);
        return (model, x, booster.Predict(x, 1000, model.FeatureCount, LightGbmPrediction.RawScore));
    });

    private static TreeModel Model => Case.Value.Model;

    [Fact]
    public void Scores_ComeBackInInputOrder()
    {
        var (model, x, expected) = Case.Value;
        var reversed = new double[x.Length];
        for (var r = 0; r < 1000; r++)
        {
            x.AsSpan(r * model.FeatureCount, model.FeatureCount).CopyTo(reversed.AsSpan((999 - r) * model.FeatureCount));
        }

        var scores = new double[1000];
        model.Score(reversed, scores);

        Assert.Equal(expected.Reverse(), scores);
    }

    [Fact]
    public void ScoringTwice_GivesTheSameScores()
    {
        var (model, x, _) = Case.Value;
        var first = new double[1000];
        var second = new double[1000];

        model.Score(x, first);
        model.Score(x, second);

        Assert.Equal(first, second);
    }

    [Fact]
    public void ConcurrentScoring_FromManyThreads_GivesTheSequentialScores()
    {
        var (model, x, expected) = Case.Value;
        var failures = 0;
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var count = 1 + (i * 37 % 1000);
            var scores = new double[count];
            model.Score(x.AsSpan(0, count * model.FeatureCount), scores);
            if (!scores.AsSpan().SequenceEqual(expected.AsSpan(0, count)))
            {
                Interlocked.Increment(ref failures);
            }
        });

        Assert.Equal(0, failures);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(999)]
    public void APrefixOfTheDocuments_ScoresAsInTheWholeBatch(int count)
    {
        var (model, x, expected) = Case.Value;
        var scores = new double[count];

        Assert.Equal(count, model.Score(x, scores));
        Assert.Equal(expected.AsSpan(0, count).ToArray(), scores);
    }

    [Fact]
    public void CancelledBeforeStart_ScoresNothing()
    {
        var (model, x, _) = Case.Value;

        Assert.Equal(0, model.Score(x, new double[1000], new CancellationToken(canceled: true)));
    }

    [Fact]
    public void CancelledMidway_ReportsAPrefixOfCompleteScores()
    {
        var (model, x, expected) = Case.Value;
        var large = new double[x.Length * 20];
        for (var i = 0; i < 20; i++)
        {
            x.CopyTo(large, i * x.Length);
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            using var cts = new CancellationTokenSource();
            var scores = new double[20_000];
            cts.CancelAfter(TimeSpan.FromMilliseconds(attempt));
            var done = model.Score(large, scores, cts.Token);

            // However far it got, what it reports as done is whole blocks (or everything) and correct.
            Assert.True(done == scores.Length || done % TreeModel.ScoringBlockSize == 0, $"{done} is not a block boundary.");
            for (var r = 0; r < done; r++)
            {
                Assert.Equal(expected[r % 1000], scores[r]);
            }
        }
    }

    [Fact]
    public void Scoring_AllocatesNothing_AfterTheFirstCall()
    {
        var (model, x, _) = Case.Value;
        var scores = new double[1000];
        var floats = x.Select(v => (float)v).ToArray();
        model.Score(x, scores);
        model.Score(floats, scores);

        var before = GC.GetAllocatedBytesForCurrentThread();
        model.Score(x, scores);
        model.Score(floats, scores);
        model.Score(x.AsSpan(0, model.FeatureCount));
        var after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);
    }

    [Fact]
    public void TooFewFeatureValues_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => Model.Score(new double[(Model.FeatureCount * 2) - 1], new double[2]));
        Assert.Throws<ArgumentException>(() => Model.ExplainShap(new double[Model.FeatureCount - 1], new double[Model.FeatureCount + 1]));
        Assert.Throws<ArgumentException>(() => Model.ExplainPath(new double[Model.FeatureCount], new double[Model.FeatureCount]));
    }

    [Fact]
    public void SingleDocumentScore_EqualsTheBatchScore()
    {
        var (model, x, expected) = Case.Value;

        for (var r = 0; r < 20; r++)
        {
            Assert.Equal(expected[r], model.Score(x.AsSpan(r * model.FeatureCount, model.FeatureCount)));
        }
    }

    [Fact]
    public void FloatInputs_ScoreAsTheSameValuesInDouble()
    {
        var (model, x, _) = Case.Value;
        var floats = x.Select(v => (float)v).ToArray();
        var widened = floats.Select(v => (double)v).ToArray();
        var fromFloats = new double[1000];
        var fromDoubles = new double[1000];

        model.Score(floats, fromFloats);
        model.Score(widened, fromDoubles);

        Assert.Equal(fromDoubles, fromFloats);
    }

    [Fact]
    public void Summary_CountsTheModelsStructure()
    {
        var summary = Model.Summarize();

        Assert.Equal(Model.TreeCount, summary.Trees);
        Assert.Equal(Model.LeafCount, summary.Leaves);
        Assert.InRange(summary.MeanLeafDepth, 1, summary.MaxDepth);
        Assert.Equal(summary.Leaves - summary.Trees, summary.Importance.Sum(i => i.Splits));
        Assert.True(summary.Importance.SequenceEqual(summary.Importance.OrderByDescending(i => i.Gain)));
    }
}
