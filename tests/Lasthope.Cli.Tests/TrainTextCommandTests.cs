using System.Text.Json;
using Lasthope.Testing;
using Lasthope.Text;

namespace Lasthope.Cli.Tests;

/// <summary><c>lasthope train-text</c>: a small real run writes its package, summary and report; bad input exits 2 naming the problem.</summary>
public sealed class TrainTextCommandTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public TrainTextCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Banking77Subset_TrainsBothFamilies_WritesThePackageSummaryAndReport()
    {
        var dir = TestData.Require("complaints/banking77");
        var keep = new[] { "card_arrival", "terminate_account", "request_refund", "transaction_charged_twice" };
        string Subset(string file, int perClass)
        {
            var lines = File.ReadAllLines(Path.Combine(dir, file));
            var rows = lines.Skip(1).Where(l => keep.Any(k => l.EndsWith("," + k, StringComparison.Ordinal))).GroupBy(l => l[(l.LastIndexOf(',') + 1)..]).SelectMany(g => g.Take(perClass));
            return Write(file, string.Join('\n', [lines[0], .. rows]) + "\n");
        }

        var (train, test) = (Subset("train.csv", 40), Subset("test.csv", 15));
        string[] paths = [Path.Combine(_dir, "m.json"), Path.Combine(_dir, "s.json"), Path.Combine(_dir, "r.html")];

        var (exit, output, err) = await CliHarness.RunAsync("train-text", "--task", "classify", "--data", train, "--test", test, "--text", "text", "--label", "category",
            "--name", "banking", "--out", paths[0], "--json", paths[1], "--html", paths[2], "--threads", "2");

        Assert.True(exit == ExitCodes.Ok, err + output);
        Assert.Matches("encoder is (better than|no better than|worse than) the", output);
        Assert.Contains("ms per text in batches of 32", output, StringComparison.Ordinal);
        var summary = JsonDocument.Parse(await File.ReadAllTextAsync(paths[1], TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(60, summary.GetProperty("testRows").GetInt32());
        Assert.Equal(["encoder", "tfidf", "prior"], summary.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("model").GetString()));
        Assert.Equal(4, summary.GetProperty("perClass").GetArrayLength());
        var model = TextModel.Load(await File.ReadAllBytesAsync(paths[0], TestContext.Current.CancellationToken), encoder: null);
        Assert.Equal("banking", model.Name);
        Assert.Equal(keep.Order(StringComparer.Ordinal), model.Classes);
        var report = await File.ReadAllTextAsync(paths[2], TestContext.Current.CancellationToken);
        foreach (var section in new[] { "<h2>Metrics</h2>", "<h2>Confusion matrix</h2>", "<h2>Per-class precision and recall</h2>", "terminate_account", "encoder - tfidf" })
        {
            Assert.Contains(section, report, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string[], string> BadInput() => new()
    {
        { ["--task", "rank"], "--task must be classify or regress" },
        { ["--encoder", "fp16"], "--encoder must be int8 or float32" },
        { ["--text", "body"], "the text column 'body' is not in the file" },
        { ["--task", "regress"], "is not a finite number" },
        { ["--name", ""], "--name must not be empty" },
        { ["--group-issues", "--label-map", "MAP"], "cannot be used together" },
        { ["--label-map", "MAP"], "the label map has no entry for 'b'" },
        { ["--label", "one"], "1 class; a classifier needs at least 2" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task BadInput_ExitsWith2_NamingTheProblem(string[] change, string message)
    {
        var data = Write("d.csv", "text,label,one\n" + string.Concat(Enumerable.Range(0, 20).Select(i => $"text number {i},{(i % 2 == 0 ? "a" : "b")},x\n")));
        var map = Write("map.csv", "label,class\na,first\n");
        var args = new Dictionary<string, string> { ["--task"] = "classify", ["--data"] = data, ["--text"] = "text", ["--label"] = "label", ["--no-encoder"] = "" };
        var flags = new List<string>();
        for (var i = 0; i < change.Length; i++)
        {
            if (i + 1 < change.Length && !change[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                args[change[i]] = change[i + 1] == "MAP" ? map : change[i + 1];
                i++;
            }
            else
            {
                flags.Add(change[i]);
            }
        }

        var (exit, _, err) = await CliHarness.RunAsync(["train-text", .. args.SelectMany(p => p.Value.Length == 0 && p.Key == "--no-encoder" ? [p.Key] : new[] { p.Key, p.Value }), .. flags]);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(message, err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFile_ExitsWith3()
    {
        var (exit, _, err) = await CliHarness.RunAsync("train-text", "--task", "classify", "--data", Path.Combine(_dir, "none.csv"), "--text", "text", "--label", "label");

        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("no file", err, StringComparison.Ordinal);
    }
}
