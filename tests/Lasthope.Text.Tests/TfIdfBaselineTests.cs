namespace Lasthope.Text.Tests;

/// <summary>The TF-IDF baseline learns, survives its bytes unchanged, and scores from many threads at once.</summary>
public sealed class TfIdfBaselineTests
{
    private static readonly string[] Texts =
    [
        "I was charged twice for my coffee", "double charge on my card statement", "the shop billed me two times",
        "please close my account", "I want to terminate my account now", "how do I delete my account",
        "my card has not arrived yet", "when will my new card be delivered", "still waiting for the card in the post",
    ];

    private static readonly double[] Labels = [0, 0, 0, 1, 1, 1, 2, 2, 2];

    [Fact]
    public void Baseline_RoundTripsThroughBytes_WithIdenticalScores()
    {
        var baseline = TfIdfBaseline.Train(TextTask.Classify, Texts, Labels, 3, seed: 1);
        var again = TfIdfBaseline.Load(baseline.ToBytes(), TextTask.Classify, 3);
        string[] probe = ["charged two times for one purchase", "close the account please", "where is my card", "", "ünïcödé 🙂 text"];
        var a = new double[probe.Length * 3];
        var b = new double[probe.Length * 3];

        baseline.Score(probe, a, TestContext.Current.CancellationToken);
        again.Score(probe, b, TestContext.Current.CancellationToken);

        Assert.Equal(a, b);
        for (var i = 0; i < probe.Length; i++)
        {
            Assert.Equal(1.0, a[(i * 3)..(i * 3 + 3)].Sum(), 1e-5);
        }

        Assert.Equal(0, Array.IndexOf(a[0..3], a[0..3].Max()));
        Assert.Equal(1, Array.IndexOf(a[3..6], a[3..6].Max()));
        Assert.Equal(2, Array.IndexOf(a[6..9], a[6..9].Max()));
    }

    [Fact]
    public void Regression_RoundTripsThroughBytes_AndOrdersByTheTarget()
    {
        string[] texts = ["short", "a bit longer text", "a much longer text with many more words in it", "tiny", "medium sized text here", "the longest text of them all by a wide margin, with words and words and words"];
        double[] values = [1, 4, 10, 1, 4, 16];
        var baseline = TfIdfBaseline.Train(TextTask.Regress, texts, values, 0, seed: 1);
        var again = TfIdfBaseline.Load(baseline.ToBytes(), TextTask.Regress, 1);
        var a = new double[texts.Length];
        var b = new double[texts.Length];

        baseline.Score(texts, a, TestContext.Current.CancellationToken);
        again.Score(texts, b, TestContext.Current.CancellationToken);

        Assert.Equal(a, b);
        Assert.True(a[5] > a[0], $"{a[5]} vs {a[0]}");
    }

    [Fact]
    public void Score_FromManyThreads_GivesTheSameScoresAsOneThread()
    {
        var baseline = TfIdfBaseline.Train(TextTask.Classify, Texts, Labels, 3, seed: 1);
        var expected = new double[Texts.Length * 3];
        baseline.Score(Texts, expected, TestContext.Current.CancellationToken);

        Parallel.For(0, 64, _ =>
        {
            var got = new double[Texts.Length * 3];
            baseline.Score(Texts, got);
            Assert.Equal(expected, got);
        });
    }
}
