using System.Globalization;
using System.Text;
using System.Text.Json;
using Lasthope.Trees;
using Lasthope.Trees.Data;

namespace Lasthope.Cli.Tests;

/// <summary><c>lasthope model inspect</c> and <c>lasthope model score</c>, run in-process on a model trained by <c>train-ltr</c>.</summary>
public sealed class ModelCommandsTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public ModelCommandsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Inspect_ShowsObjectiveTreesLeavesDepthAndImportance()
    {
        var model = await TrainAsync();

        var (exit, _, err) = await CliHarness.RunAsync("model", "inspect", model);

        Assert.Equal(ExitCodes.Ok, exit);
        foreach (var expected in new[] { "lambdarank", "trees", "15", "leaves", "depth", "features", "used of 6", "feature importance", "splits", "gain" })
        {
            Assert.Contains(expected, err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task InspectJson_PrintsTheSummaryOnStandardOutput()
    {
        var model = await TrainAsync();

        var (exit, output, _) = await CliHarness.RunAsync("model", "inspect", model, "--json");

        Assert.Equal(ExitCodes.Ok, exit);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(15, json.RootElement.GetProperty("trees").GetInt32());
        Assert.Equal("lambdarank", json.RootElement.GetProperty("objective").GetString());
        Assert.True(json.RootElement.GetProperty("importance").GetArrayLength() > 0);
    }

    [Fact]
    public async Task Score_PrintsOneRawScorePerRow_InInputOrder()
    {
        var model = await TrainAsync();
        var data = Path.Combine(_dir, "test.libsvm");
        WriteLibSvm(data, rows: 137, seed: 5);

        var (exit, output, _) = await CliHarness.RunAsync("model", "score", model, data);

        Assert.Equal(ExitCodes.Ok, exit);
        var printed = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        var rows = DenseDataset.ReadLibSvm(data, 6);
        var expected = new double[rows.Rows];
        TreeModel.Load(model).Score(rows.Features, expected);
        Assert.Equal(expected, printed);
    }

    [Fact]
    public async Task ScoreCsv_WithAHeader_MapsColumnsByName()
    {
        var model = await TrainAsync();
        var data = Path.Combine(_dir, "test.libsvm");
        WriteLibSvm(data, rows: 40, seed: 6);
        var rows = DenseDataset.ReadLibSvm(data, 6);
        var csv = new StringBuilder("Column_5,Column_4,Column_3,Column_2,Column_1,Column_0\n");
        for (var r = 0; r < rows.Rows; r++)
        {
            var row = rows.Row(r).ToArray();
            csv.AppendLine(string.Join(',', Enumerable.Range(0, 6).Select(c => row[5 - c].ToString("R", CultureInfo.InvariantCulture))));
        }

        var csvPath = Path.Combine(_dir, "test.csv");
        await File.WriteAllTextAsync(csvPath, csv.ToString(), TestContext.Current.CancellationToken);

        var fromLibSvm = await CliHarness.RunAsync("model", "score", model, data);
        var fromCsv = await CliHarness.RunAsync("model", "score", model, csvPath);

        Assert.Equal(ExitCodes.Ok, fromCsv.ExitCode);
        Assert.Equal(fromLibSvm.Out, fromCsv.Out);
    }

    [Fact]
    public async Task Score_Transform_PrintsProbabilitiesForABinaryModel()
    {
        var model = await TrainAsync("--objective", "binary");
        var data = Path.Combine(_dir, "test.libsvm");
        WriteLibSvm(data, rows: 50, seed: 7);

        var (exit, output, _) = await CliHarness.RunAsync("model", "score", model, data, "--transform");

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.All(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.InRange(double.Parse(l, CultureInfo.InvariantCulture), 0, 1));
    }

    [Fact]
    public async Task MissingModel_IsNotFound()
    {
        var (exit, _, err) = await CliHarness.RunAsync("model", "inspect", Path.Combine(_dir, "nope.txt"));

        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("nope.txt", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TruncatedModel_IsBadInput_WithTheReason()
    {
        var model = await TrainAsync();
        var text = await File.ReadAllTextAsync(model, TestContext.Current.CancellationToken);
        var cut = Path.Combine(_dir, "cut.txt");
        await File.WriteAllTextAsync(cut, text[..(text.Length / 2)], TestContext.Current.CancellationToken);

        var (exit, _, err) = await CliHarness.RunAsync("model", "score", cut, model);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("truncated", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedData_IsBadInput()
    {
        var model = await TrainAsync();
        var data = Path.Combine(_dir, "bad.libsvm");
        await File.WriteAllTextAsync(data, "1 0:0.5 1:oops\n", TestContext.Current.CancellationToken);

        var (exit, _, err) = await CliHarness.RunAsync("model", "score", model, data);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("1:oops", err, StringComparison.Ordinal);
    }

    private async Task<string> TrainAsync(params string[] extra)
    {
        var train = Path.Combine(_dir, "train.libsvm");
        WriteLibSvm(train, rows: 600, seed: 1);
        var model = Path.Combine(_dir, $"model-{Guid.NewGuid():N}.txt");
        var (exit, _, err) = await CliHarness.RunAsync(["train-ltr", "--train", train, "--out", model, "--iterations", "15", "--min-data-in-leaf", "5", "--threads", "1", "--seed", "1", .. extra]);
        Assert.True(exit == ExitCodes.Ok, err);
        return model;
    }

    /// <summary>LibSVM with a .query file: 6 features, graded labels from a planted rule, groups of 10.</summary>
    internal static void WriteLibSvm(string path, int rows, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        for (var r = 0; r < rows; r++)
        {
            var x = Enumerable.Range(0, 6).Select(_ => Math.Round(random.NextDouble(), 3)).ToArray();
            var label = Math.Clamp((int)((x[0] * 3) + (x[1] > 0.5 ? 1 : 0) + (random.NextDouble() * 0.5)), 0, 3);
            text.Append(label.ToString(CultureInfo.InvariantCulture));
            for (var c = 0; c < 6; c++)
            {
                if (x[c] != 0)
                {
                    text.Append(CultureInfo.InvariantCulture, $" {c}:{x[c]}");
                }
            }

            text.Append('\n');
        }

        File.WriteAllText(path, text.ToString());
        File.WriteAllText(path + ".query", string.Join('\n', Enumerable.Repeat("10", rows / 10)) + (rows % 10 > 0 ? $"\n{rows % 10}" : "") + "\n");
    }
}
