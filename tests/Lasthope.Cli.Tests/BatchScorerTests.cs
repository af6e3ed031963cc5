using System.Globalization;
using Lasthope.Server.Predict;
using Lasthope.Training.Tabular;

namespace Lasthope.Cli.Tests;

/// <summary><see cref="BatchScorer"/> on small generated tables: its exit paths and the outcomes it keeps for a report.</summary>
public sealed class BatchScorerTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public BatchScorerTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A binary predictor of y from a and colour, trained on <paramref name="rows"/> generated rows whose label takes the values <paramref name="labels"/>.</summary>
    private Predictor Train(string positive, string[] labels, int rows = 300)
    {
        var path = Path.Combine(_dir, "train.csv");
        var random = new Random(3);
        var lines = new List<string> { "id,a,colour,y" };
        for (var i = 0; i < rows; i++)
        {
            var a = random.NextDouble() * 10;
            var y = a + random.NextDouble() * 3 > 6 ? positive : labels.Where(l => l != positive).ElementAt(random.Next(labels.Length - 1));
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{i},{a:F3},{(random.Next(2) == 0 ? "red" : "blue")},{y}"));
        }

        File.WriteAllLines(path, lines);
        var table = TabularData.Read(path, new TabularReadOptions { Label = "y", Ignore = ["id"] });
        var options = new TabularTrainingOptions { Task = PredictionTask.Binary, Name = "t", Positive = positive, Trees = 20, EarlyStoppingRounds = 0, Threads = 1, Resamples = 10 };
        return new Predictor(TabularTraining.Train(table, options).Package, "test");
    }

    /// <summary>Records whether a report is running; the first one takes <paramref name="delay"/>, as a slow console might.</summary>
    private sealed class SlowProgress(TimeSpan delay) : IProgress<double>
    {
        private int _running;
        private int _reports;

        public int Running => Volatile.Read(ref _running);

        public void Report(double value)
        {
            Interlocked.Increment(ref _running);
            if (Interlocked.Increment(ref _reports) == 1)
            {
                Thread.Sleep(delay);
            }

            Interlocked.Decrement(ref _running);
        }
    }

    [Fact]
    public void AnInputThatFailsWhileABlockIsBeingWritten_WaitsForTheWriter_BeforeItThrows()
    {
        var predictor = Train("1", ["0", "1"]);
        // A block and a half of good rows, then a quote that is never closed: Sep reads on to its row limit (16M
        // characters) and throws while the worker is still writing the first block.
        var input = Path.Combine(_dir, "unclosed.csv");
        using (var writer = new StreamWriter(input))
        {
            writer.WriteLine("id,a,colour,y");
            for (var i = 0; i < BatchScorer.BlockRows * 3 / 2; i++)
            {
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i},{i % 10}.5,red,1"));
            }

            writer.WriteLine("x,\"1.5,red,1");
            for (var i = 0; i < 1_100_000; i++)
            {
                writer.WriteLine("1,2.5,blue,0,,,,,,,");
            }
        }

        var progress = new SlowProgress(TimeSpan.FromSeconds(2));
        var e = Record.Exception(() => BatchScorer.Score(predictor, input, Path.Combine(_dir, "out.csv"), 0, [], progress, TestContext.Current.CancellationToken));

        Assert.Equal(0, progress.Running); // the first block's worker finished before Score returned
        Assert.IsType<BatchInputException>(e);
        Assert.Contains(input, e.Message, StringComparison.Ordinal);
        Assert.Contains($"from line {BatchScorer.BlockRows * 3 / 2 + 2} on", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("good,fair,bad")] // trained on three values: the classes are "not bad" and "bad"
    [InlineData("good,bad")] // trained on two: the classes are "good" and "bad", and "fair" is new
    public void BinaryOutcomes_CountEveryValueButThePositiveAsNegative(string trainedOn)
    {
        var predictor = Train("bad", trainedOn.Split(','));
        var input = Path.Combine(_dir, "labelled.csv");
        File.WriteAllLines(input, ["id,a,colour,y", "1,9.5,red,bad", "2,1.5,red,good", "3,2.5,blue,fair", "4,3.5,blue,", "5,8.5,red,bad", "6,0.5,blue,fair"]);

        var (_, sample) = BatchScorer.Score(predictor, input, Path.Combine(_dir, "out.csv"), 0, [], sampleRows: 100, labelColumn: "y", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal([1, 0, 0, double.NaN, 1, 0], sample!.Labels!); // a missing outcome is not a negative one
    }
}
