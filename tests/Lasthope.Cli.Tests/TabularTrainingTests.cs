using System.Globalization;
using Lasthope.Server.Predict;
using Lasthope.Training.Tabular;

namespace Lasthope.Cli.Tests;

/// <summary><see cref="TabularTraining"/> on small generated tables: what its held-out comparison measures.</summary>
public sealed class TabularTrainingTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public TabularTrainingTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheHeldOutMetrics_WeighEachRowByItsWeight()
    {
        // y depends on a, noisily; a row with a > 5 weighs 10, the others 1, so a weighted metric differs from the plain one.
        var path = Path.Combine(_dir, "weighted.csv");
        var random = new Random(11);
        var lines = new List<string> { "a,b,w,y" };
        for (var i = 0; i < 1_000; i++)
        {
            var a = random.NextDouble() * 10;
            var y = random.NextDouble() < (a > 5 ? 0.9 : 0.4) ? 1 : 0;
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{a:F3},{random.NextDouble():F3},{(a > 5 ? 10 : 1)},{y}"));
        }

        File.WriteAllLines(path, lines);
        var table = TabularData.Read(path, new TabularReadOptions { Label = "y", Weight = "w" });
        var report = TabularTraining.Train(table, new TabularTrainingOptions { Task = PredictionTask.Binary, Name = "w", Trees = 50, Threads = 1, Resamples = 20 });

        // The weight of each held-out row, from its feature a (column 0).
        var rows = report.TestLabels.Length;
        var weights = Enumerable.Range(0, rows).Select(r => report.TestFeatures[r * 2] > 5 ? 10.0 : 1.0).ToArray();
        var p = report.TestPredictions[0].Predictions;
        double LogLoss(int r) => -(report.TestLabels[r] > 0 ? Math.Log(p[r]) : Math.Log(1 - p[r]));
        var weighted = Enumerable.Range(0, rows).Sum(r => weights[r] * LogLoss(r)) / weights.Sum();
        var plain = Enumerable.Range(0, rows).Average(LogLoss);
        var logLoss = report.Comparison.Values[0][report.Comparison.Metrics.ToList().IndexOf("log_loss")].Estimate;

        Assert.True(Math.Abs(weighted - plain) > 0.01, $"weighted {weighted}, plain {plain}: the table does not tell them apart");
        Assert.Equal(weighted, logLoss, 9);
    }
}
