using System.Text.Json;
using Lasthope.Testing;

namespace Lasthope.Cli.Tests;

/// <summary>train-edit-need and the annotation round trip through the CLI, and their refusals of bad input.</summary>
public sealed class EditNeedCommandTests
{
    [Fact]
    public async Task TrainThenAnnotate_RoundTrip_ScoresTheLabelsOfEachArm()
    {
        var data = TestData.Require("text-revisions");
        var dir = CliHarness.TempDirectory();
        Directory.CreateDirectory(dir);
        try
        {
            var model = Path.Combine(dir, "edit-need.json");
            var summary = Path.Combine(dir, "summary.json");
            var report = Path.Combine(dir, "edit-need.html");
            var train = await CliHarness.RunAsync("train-edit-need", "--data", data, "--encoder", "none", "--resamples", "100", "--out", model, "--json", summary, "--html", report);
            Assert.True(train.ExitCode == 0, train.Err);
            var html = await File.ReadAllTextAsync(report, TestContext.Current.CancellationToken);
            Assert.Equal(2, html.Split("<svg", StringSplitOptions.None).Length - 1); // precision and Spearman charts
            Assert.Contains("trees: text features - ", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("trees: text features is ", train.Out, StringComparison.Ordinal);
            using (var json = JsonDocument.Parse(await File.ReadAllTextAsync(summary, TestContext.Current.CancellationToken)))
            {
                Assert.Equal(4, json.RootElement.GetProperty("comparison").GetProperty("models").GetArrayLength());
            }

            var input = Path.Combine(dir, "docs.txt");
            await File.WriteAllTextAsync(input, "In this paper , we present a new model. It work good. The results is shown below. We thank the reviewers. This is fine.\n---\n"
                + "Our method are fast. It runs on one core. Experiments show gains on three datasets. Code is available online.", TestContext.Current.CancellationToken);
            var blinded = Path.Combine(dir, "blinded.csv");
            var sample = await CliHarness.RunAsync("annotate", "sample", "--model", model, "--input", input, "--out", blinded, "--count", "6", "--seed", "3");
            Assert.True(sample.ExitCode == 0, sample.Err);
            var key = Path.Combine(dir, "blinded.key.json");
            Assert.True(File.Exists(key));
            var lines = await File.ReadAllLinesAsync(blinded, TestContext.Current.CancellationToken);
            Assert.Equal("id,text,label", lines[0]);
            Assert.All(lines.Skip(1), l => Assert.EndsWith(",", l, StringComparison.Ordinal)); // only id, text and an empty label: no arm, no score

            // A human labels every row "yes" except the first, which gets "no".
            var labelled = lines.Take(1).Concat(lines.Skip(1).Select((l, i) => l + (i == 0 ? "no" : "yes"))).ToArray();
            await File.WriteAllLinesAsync(blinded, labelled, TestContext.Current.CancellationToken);
            var score = await CliHarness.RunAsync("annotate", "score", "--file", blinded, "--key", key);

            Assert.True(score.ExitCode == 0, score.Err);
            Assert.Contains("(Wilson 95%)", score.Out, StringComparison.Ordinal);
            Assert.Contains("model - random:", score.Out, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Score_OfThe30In50Example_PrintsTheWilsonInterval()
    {
        var dir = CliHarness.TempDirectory();
        Directory.CreateDirectory(dir);
        try
        {
            // 50 model rows of which 30 need editing, 50 random rows of which 15 do.
            var rows = Enumerable.Range(1, 100).Select(i => (Id: i.ToString(System.Globalization.CultureInfo.InvariantCulture), Arm: i <= 50 ? "model" : "random", Yes: i <= 30 || (i > 50 && i <= 65))).ToList();
            var csv = Path.Combine(dir, "b.csv");
            await File.WriteAllLinesAsync(csv, ["id,text,label", .. rows.Select(r => $"{r.Id},\"a, \"\"quoted\"\" text\",{(r.Yes ? "1" : "0")}")], TestContext.Current.CancellationToken);
            var keyRows = string.Join(",", rows.Select(r => $"{{\"id\":\"{r.Id}\",\"arms\":[\"{r.Arm}\"],\"document\":0,\"unit\":0,\"predictedRate\":0}}"));
            await File.WriteAllTextAsync(Path.Combine(dir, "b.key.json"), $"{{\"format\":\"lasthope-annotate-key/1\",\"seed\":1,\"documents\":1,\"units\":100,\"highlighted\":50,\"rows\":[{keyRows}]}}", TestContext.Current.CancellationToken);

            var score = await CliHarness.RunAsync("annotate", "score", "--file", csv);

            Assert.True(score.ExitCode == 0, score.Err);
            Assert.Contains("model   30 of 50 need editing: 60% [46%, 72%] (Wilson 95%)", score.Out, StringComparison.Ordinal);
            Assert.Contains("random  15 of 50 need editing: 30% [19%, 44%]", score.Out, StringComparison.Ordinal);
            Assert.Contains("the highlights are better than random units", score.Out, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("train-edit-need", "--data", "DIR", "--level", "word")]
    [InlineData("train-edit-need", "--data", "DIR", "--encoder", "bert")]
    [InlineData("train-edit-need", "--data", "DIR")]
    [InlineData("annotate", "sample", "--model", "BAD", "--input", "BAD", "--out", "OUT")]
    [InlineData("annotate", "sample", "--model", "BAD", "--input", "BAD", "--out", "OUT", "--count", "1")]
    [InlineData("annotate", "score", "--file", "BAD", "--key", "BAD")]
    [InlineData("annotate", "score", "--file", "LABELS", "--key", "BAD")]
    [InlineData("annotate", "score")]
    public async Task BadInput_ExitsTwo_WithAMessage(params string[] args)
    {
        var dir = CliHarness.TempDirectory();
        Directory.CreateDirectory(dir);
        try
        {
            var bad = Path.Combine(dir, "bad.json");
            await File.WriteAllTextAsync(bad, "{not a model", TestContext.Current.CancellationToken);
            var labels = Path.Combine(dir, "labels.csv");
            await File.WriteAllTextAsync(labels, "id,text,label\n1,x,maybe\n", TestContext.Current.CancellationToken);
            var resolved = args.Select(a => a switch { "DIR" => dir, "BAD" => bad, "LABELS" => labels, "OUT" => Path.Combine(dir, "out.csv"), _ => a }).ToArray();

            var (exit, _, err) = await CliHarness.RunAsync(resolved);

            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.StartsWith("error: ", err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
