using Lasthope.Text.Encoder;

namespace Lasthope.Text.Tests;

/// <summary>Both families trained on a real BANKING77 subset beat the majority class, and the package they make scores as they did.</summary>
public sealed class TextTrainingTests
{
    [Fact]
    public void Banking77Subset_BothFamiliesBeatTheMajorityClass_AndThePackageScoresTheSame()
    {
        var (train, test) = TextFixtures.Banking77Subset();
        using var encoder = new MiniLmEncoder(intraOpThreads: 2);

        var report = TextTraining.Train(train, test, encoder, new TextTrainingOptions { Name = "banking-subset", Resamples = 200, CostSample = 8 }, cancellationToken: TestContext.Current.CancellationToken);

        var e = report.Evaluation;
        Assert.Equal(6, e.Classes.Count);
        Assert.Equal(120, e.Rows);
        Assert.Equal(["encoder", "tfidf", "prior"], e.Models.Select(m => m.Model));
        var majority = e.Value("prior", "accuracy").Estimate;
        Assert.Equal(1 / 6.0, majority, 12);
        Assert.True(e.Value("tfidf", "accuracy").Lower > majority + 0.3, $"tfidf {e.Value("tfidf", "accuracy")}");
        Assert.True(e.Value("encoder", "accuracy").Lower > majority + 0.3, $"encoder {e.Value("encoder", "accuracy")}");
        Assert.Equal("tfidf", e.BestBaseline);
        Assert.Matches("^encoder is (better than|no better than|worse than) the", e.Verdict);
        Assert.NotNull(report.Cost);
        Assert.True(report.Cost.MsPerTextBatched > 0 && report.Cost.MsPerTextSingle > 0);

        var loaded = TextModel.Load(report.Model.ToBytes(), encoder);
        var texts = test.Texts[..10];
        var baseline = new double[10 * 6];
        var encoded = new double[10 * 6];
        loaded.Baseline.Score(texts, baseline, TestContext.Current.CancellationToken);
        loaded.Encoder!.Score(texts, encoded, TestContext.Current.CancellationToken);
        Assert.Equal(e.Models[1].Predictions[..60], baseline);
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal(e.Models[0].Predictions[i], encoded[i], 1e-5); // batches of 10 rather than 32: ONNX Runtime's sums may differ in the last bits
        }
    }
}
