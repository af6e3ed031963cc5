using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Lasthope.Server.Predict;
using Lasthope.Testing;

namespace Lasthope.Cli.Tests;

/// <summary>
/// <c>lasthope train-model</c> and <c>lasthope score-batch</c> on the real credit data (UCI German credit with its 5:1
/// cost matrix, the Taiwan default data) and on small generated tables, with their bad inputs.
/// </summary>
public sealed class TrainModelCommandTests : IDisposable
{
    internal const string GermanColumns = "checking_status,duration_months,credit_history,purpose,credit_amount,savings,employment_since,installment_rate,personal_status_sex,other_debtors,residence_since,property,age,other_installment_plans,housing,existing_credits,job,people_liable,telephone,foreign_worker,class";

    private readonly string _dir = CliHarness.TempDirectory();

    public TrainModelCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement Metric(JsonElement summary, string model, string metric) =>
        summary.GetProperty("models").EnumerateArray().First(m => m.GetProperty("model").GetString() == model)
            .GetProperty("metrics").EnumerateArray().First(m => m.GetProperty("metric").GetString() == metric);

    [Fact]
    public async Task German_TrainsAgainstBothBaselines_RegistersThePredictor_AndScoreBatchUsesIt()
    {
        var german = TestData.Require("credit/german/german.csv");
        var package = Path.Combine(_dir, "german.json");
        var summaryPath = Path.Combine(_dir, "german-summary.json");
        var data = Path.Combine(_dir, "data");

        var (exit, output, err) = await CliHarness.RunAsync(
            "train-model", "--task", "binary", "--data-file", german, "--columns", GermanColumns, "--label", "class", "--positive", "2",
            "--cost-matrix", "1,5", "--decisions", "refuse,approve", "--target", "risk", "--name", "german", "--threads", "1",
            "--out", package, "--json", summaryPath, "--activate", "--data", data, "--html", Path.Combine(_dir, "german.html"));

        Assert.True(exit == ExitCodes.Ok, err + output);
        var summary = JsonDocument.Parse(await File.ReadAllTextAsync(summaryPath, TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(200, summary.GetProperty("testRows").GetInt32());
        Assert.Equal(1 / 6.0, summary.GetProperty("threshold").GetDouble(), 12);
        Assert.Equal(["gbdt", "logistic", "prior"], summary.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("model").GetString()));
        Assert.Equal(0.5, Metric(summary, "prior", "auc").GetProperty("estimate").GetDouble());
        foreach (var model in new[] { "gbdt", "logistic" })
        {
            var auc = Metric(summary, model, "auc");
            Assert.InRange(auc.GetProperty("estimate").GetDouble(), 0.65, 0.9); // published results for this data lie near 0.75-0.8
            Assert.True(auc.GetProperty("lower").GetDouble() < auc.GetProperty("estimate").GetDouble());
        }

        Assert.Matches("^gbdt is (better than|no better than|worse than) the", summary.GetProperty("verdict").GetString()!);
        Assert.Contains("registered german-", output, StringComparison.Ordinal);
        var report = await File.ReadAllTextAsync(Path.Combine(_dir, "german.html"), TestContext.Current.CancellationToken);
        foreach (var section in new[] { "<h2>ROC and calibration</h2>", "<h2>Score bands</h2>", "<h2>Feature importance</h2>", "<h2>Reasons for one row</h2>", "checking_status", "gbdt is " })
        {
            Assert.Contains(section, report, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("<script", report, StringComparison.OrdinalIgnoreCase);
        var written = PredictorPackage.Parse(await File.ReadAllBytesAsync(package, TestContext.Current.CancellationToken));
        Assert.Equal("scorecard", written.Fallback.Kind);
        Assert.Equal(["1", "2"], written.Classes);
        Assert.Equal(20, written.Features.Count);
        Assert.NotNull(written.Features.Single(f => f.Name == "checking_status").Categories);

        // The same rows, with a header, scored by the active predictor of the store.
        var input = Path.Combine(_dir, "german-header.csv");
        await File.WriteAllLinesAsync(input, [GermanColumns, .. await File.ReadAllLinesAsync(german, TestContext.Current.CancellationToken)], TestContext.Current.CancellationToken);
        var scores = Path.Combine(_dir, "scores.csv");
        var batchReport = Path.Combine(_dir, "batch.html");
        (exit, output, err) = await CliHarness.RunAsync("score-batch", "--model", "german", "--data", data, "--input", input, "--output", scores, "--explain", "3", "--html", batchReport, "--label", "class");

        Assert.True(exit == ExitCodes.Ok, err + output);
        var lines = await File.ReadAllLinesAsync(scores, TestContext.Current.CancellationToken);
        Assert.Equal("score,decision,reason_1,contribution_1,reason_2,contribution_2,reason_3,contribution_3", lines[0]);
        Assert.Equal(1_001, lines.Length);
        var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(scores + ".manifest.json", TestContext.Current.CancellationToken)).RootElement;
        Assert.StartsWith("german-", manifest.GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.Equal(1_000, manifest.GetProperty("rows").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(input, TestContext.Current.CancellationToken))), manifest.GetProperty("inputSha256").GetString());

        var batch = await File.ReadAllTextAsync(batchReport, TestContext.Current.CancellationToken);
        Assert.Contains("<h2>ROC and calibration</h2>", batch, StringComparison.Ordinal); // outcomes from --label: "2" is the positive class
        Assert.Contains("Outcomes from the column class", batch, StringComparison.Ordinal);

        // Each decision follows the threshold on its score.
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            var p = double.Parse(cells[0], CultureInfo.InvariantCulture);
            Assert.Equal(p >= 1 / 6.0 ? "refuse" : "approve", cells[1]);
        }
    }

    [Fact]
    public async Task Taiwan_TheGbdtsAuc_IsAtLeast077()
    {
        var taiwan = TestData.Require("credit/taiwan/UCI_Credit_Card.csv");
        var summaryPath = Path.Combine(_dir, "taiwan.json");
        var (exit, output, err) = await CliHarness.RunAsync(
            "train-model", "--task", "binary", "--data-file", taiwan, "--label", "Y", "--ignore", "ID", "--categorical", "X2,X3,X4", "--threads", "1", "--json", summaryPath);

        Assert.True(exit == ExitCodes.Ok, err + output);
        var summary = JsonDocument.Parse(await File.ReadAllTextAsync(summaryPath, TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(6_000, summary.GetProperty("testRows").GetInt32());
        Assert.True(Metric(summary, "gbdt", "auc").GetProperty("estimate").GetDouble() >= 0.77, summary.ToString());
        Assert.True(Metric(summary, "gbdt", "auc").GetProperty("estimate").GetDouble() > Metric(summary, "logistic", "auc").GetProperty("estimate").GetDouble());
    }

    /// <summary>A generated table: two numbers, a category, a value that depends on them, and a class.</summary>
    private string Table(int rows)
    {
        var path = Path.Combine(_dir, "table.csv");
        var random = new Random(5);
        var lines = new List<string> { "id,a,b,colour,value,kind" };
        string[] colours = ["red", "green", "blue"];
        for (var i = 0; i < rows; i++)
        {
            var a = random.NextDouble() * 10;
            var b = random.NextDouble() < 0.1 ? "" : (random.NextDouble() * 5).ToString("F3", CultureInfo.InvariantCulture);
            var colour = colours[random.Next(3)];
            var value = 3 * a + (colour == "red" ? 5 : 0) + random.NextDouble();
            var kind = a < 3 ? "low" : a < 7 ? (colour == "blue" ? "blue-mid" : "mid") : "high";
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{i},{a:F3},{b},{colour},{value:F3},{kind}"));
        }

        File.WriteAllLines(path, lines);
        return path;
    }

    [Theory]
    [InlineData("regression", "value", "rmse")]
    [InlineData("multiclass", "kind", "macro_f1")]
    public async Task RegressionAndMulticlass_BeatTheirPriors_OnALearnableTable(string task, string label, string primary)
    {
        var table = Table(1_500);
        var summaryPath = Path.Combine(_dir, "summary.json");
        var package = Path.Combine(_dir, "p.json");
        var ignore = task == "regression" ? "id,kind" : "id,value";
        var (exit, output, err) = await CliHarness.RunAsync("train-model", "--task", task, "--data-file", table, "--label", label, "--ignore", ignore, "--threads", "1", "--json", summaryPath, "--out", package);

        Assert.True(exit == ExitCodes.Ok, err + output);
        var summary = JsonDocument.Parse(await File.ReadAllTextAsync(summaryPath, TestContext.Current.CancellationToken)).RootElement;
        var gbdt = Metric(summary, "gbdt", primary).GetProperty("estimate").GetDouble();
        var prior = Metric(summary, "prior", primary).GetProperty("estimate").GetDouble();
        Assert.True(task == "regression" ? gbdt < prior / 3 : gbdt > prior + 0.3, $"{primary}: gbdt {gbdt}, prior {prior}");

        var scores = Path.Combine(_dir, "scores.csv");
        (exit, _, err) = await CliHarness.RunAsync("score-batch", "--model", package, "--input", table, "--output", scores, "--pass-through", "id");
        Assert.True(exit == ExitCodes.Ok, err);
        var header = (await File.ReadAllLinesAsync(scores, TestContext.Current.CancellationToken))[0];
        Assert.Equal(task == "regression" ? "id,score" : "id,score,decision,p_blue-mid,p_high,p_low,p_mid", header);
    }

    [Fact]
    public async Task RaggedRows_ExitWith2_NamingTheFileAndTheLine()
    {
        var table = Table(200);
        var lines = await File.ReadAllLinesAsync(table, TestContext.Current.CancellationToken);
        var longer = Path.Combine(_dir, "longer.csv");
        await File.WriteAllLinesAsync(longer, [.. lines[..6], lines[6] + ",extra", .. lines[7..]], TestContext.Current.CancellationToken);
        var shorter = Path.Combine(_dir, "shorter.csv");
        await File.WriteAllLinesAsync(shorter, [.. lines[..9], string.Join(',', lines[9].Split(',')[..3]), .. lines[10..]], TestContext.Current.CancellationToken);

        var (exit, _, err) = await CliHarness.RunAsync("train-model", "--task", "regression", "--data-file", longer, "--label", "value", "--ignore", "id,kind", "--threads", "1");
        Assert.True(exit == ExitCodes.BadInput && err.Contains(longer, StringComparison.Ordinal) && err.Contains("line 7 has 7 fields", StringComparison.Ordinal), err);
        (exit, _, err) = await CliHarness.RunAsync("train-model", "--task", "regression", "--data-file", shorter, "--label", "value", "--ignore", "id,kind", "--threads", "1");
        Assert.True(exit == ExitCodes.BadInput && err.Contains(shorter, StringComparison.Ordinal) && err.Contains("line 10 has 3 fields", StringComparison.Ordinal), err);

        var package = Path.Combine(_dir, "p.json");
        Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("train-model", "--task", "regression", "--data-file", table, "--label", "value", "--ignore", "id,kind", "--threads", "1", "--out", package)).ExitCode);
        (exit, _, err) = await CliHarness.RunAsync("score-batch", "--model", package, "--input", longer, "--output", Path.Combine(_dir, "o.csv"));
        Assert.True(exit == ExitCodes.BadInput && err.Contains(longer, StringComparison.Ordinal) && err.Contains("line 7 has 7 fields", StringComparison.Ordinal), err);
        (exit, _, err) = await CliHarness.RunAsync("score-batch", "--model", package, "--input", shorter, "--output", Path.Combine(_dir, "o.csv"));
        Assert.True(exit == ExitCodes.BadInput && err.Contains(shorter, StringComparison.Ordinal) && err.Contains("line 10 has 3 fields", StringComparison.Ordinal), err);
    }

    [Fact]
    public async Task AQuoteNeverClosed_ExitsWith2_NamingTheLineWhereTheRowStarts()
    {
        var table = Table(200);
        var package = Path.Combine(_dir, "p.json");
        Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("train-model", "--task", "regression", "--data-file", table, "--label", "value", "--ignore", "id,kind", "--threads", "1", "--out", package)).ExitCode);
        // Sep reads an open quote on to its row limit (16M characters), then gives up.
        var unclosed = Path.Combine(_dir, "unclosed.csv");
        using (var writer = new StreamWriter(unclosed))
        {
            foreach (var line in (await File.ReadAllLinesAsync(table, TestContext.Current.CancellationToken))[..51])
            {
                writer.WriteLine(line);
            }

            writer.WriteLine("x,\"1.5,2,red,3,low");
            for (var i = 0; i < 1_100_000; i++)
            {
                writer.WriteLine("1,2.5,1,blue,9,low");
            }
        }

        var (exit, _, err) = await CliHarness.RunAsync("train-model", "--task", "regression", "--data-file", unclosed, "--label", "value", "--ignore", "id,kind", "--threads", "1");
        Assert.True(exit == ExitCodes.BadInput && err.Contains(unclosed, StringComparison.Ordinal) && err.Contains("from line 52 on", StringComparison.Ordinal), err);
        (exit, _, err) = await CliHarness.RunAsync("score-batch", "--model", package, "--input", unclosed, "--output", Path.Combine(_dir, "o.csv"));
        Assert.True(exit == ExitCodes.BadInput && err.Contains(unclosed, StringComparison.Ordinal) && err.Contains("from line 52 on", StringComparison.Ordinal), err);
    }

    [Theory]
    [InlineData("a a", "white space")]
    [InlineData("a:b", "':'")]
    [InlineData("\"a{1}\"", "'{'")]
    public async Task AFeatureName_LightGbmCannotHold_ExitsWith2_NamingTheColumn(string name, string problem)
    {
        var lines = await File.ReadAllLinesAsync(Table(200), TestContext.Current.CancellationToken);
        var renamed = Path.Combine(_dir, "renamed.csv");
        await File.WriteAllLinesAsync(renamed, [lines[0].Replace("id,a,", $"id,{name},", StringComparison.Ordinal), .. lines[1..]], TestContext.Current.CancellationToken);

        var (exit, _, err) = await CliHarness.RunAsync("train-model", "--task", "regression", "--data-file", renamed, "--label", "value", "--ignore", "id,kind", "--threads", "1");

        Assert.True(exit == ExitCodes.BadInput && err.Contains(problem, StringComparison.Ordinal) && err.Contains("--ignore", StringComparison.Ordinal), err);
    }

    [Fact]
    public async Task AHeaderThatNamesAColumnTwice_ExitsWith2_InTrainModelAndScoreBatch()
    {
        var table = Table(200);
        var package = Path.Combine(_dir, "p.json");
        Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("train-model", "--task", "regression", "--data-file", table, "--label", "value", "--ignore", "id,kind", "--threads", "1", "--out", package)).ExitCode);
        var lines = await File.ReadAllLinesAsync(table, TestContext.Current.CancellationToken);
        var twice = Path.Combine(_dir, "twice.csv");
        await File.WriteAllLinesAsync(twice, [lines[0].Replace(",kind", ",a", StringComparison.Ordinal), .. lines[1..]], TestContext.Current.CancellationToken);

        var (exit, _, err) = await CliHarness.RunAsync("train-model", "--task", "regression", "--data-file", twice, "--label", "value", "--ignore", "id", "--threads", "1");
        Assert.True(exit == ExitCodes.BadInput && err.Contains(twice, StringComparison.Ordinal) && err.Contains("'a'", StringComparison.Ordinal), err);
        (exit, _, err) = await CliHarness.RunAsync("score-batch", "--model", package, "--input", twice, "--output", Path.Combine(_dir, "o.csv"));
        Assert.True(exit == ExitCodes.BadInput && err.Contains(twice, StringComparison.Ordinal) && err.Contains("'a'", StringComparison.Ordinal), err);
    }

    [Fact]
    public async Task APassThroughColumnNamedAsAnOutputColumn_ExitsWith2_NamingIt()
    {
        var table = Table(200);
        var package = Path.Combine(_dir, "p.json");
        Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("train-model", "--task", "regression", "--data-file", table, "--label", "value", "--ignore", "id,kind", "--threads", "1", "--out", package)).ExitCode);
        var lines = await File.ReadAllLinesAsync(table, TestContext.Current.CancellationToken);
        var input = Path.Combine(_dir, "named.csv");
        await File.WriteAllLinesAsync(input, [lines[0] + ",score,reason_2,reason_3", .. lines[1..].Select(l => l + ",s,r2,r3")], TestContext.Current.CancellationToken);
        var output = Path.Combine(_dir, "o.csv");

        foreach (var column in new[] { "score", "reason_2" })
        {
            var (exit, _, err) = await CliHarness.RunAsync("score-batch", "--model", package, "--input", input, "--output", output, "--explain", "2", "--pass-through", "id," + column);
            Assert.True(exit == ExitCodes.BadInput && err.Contains($"'{column}'", StringComparison.Ordinal), err);
        }

        // reason_3 is not an output column with two reasons: it passes through.
        var (ok, _, error) = await CliHarness.RunAsync("score-batch", "--model", package, "--input", input, "--output", output, "--explain", "2", "--pass-through", "id,reason_3");
        Assert.True(ok == ExitCodes.Ok, error);
        Assert.Equal("id,reason_3,score,reason_1,contribution_1,reason_2,contribution_2", (await File.ReadAllLinesAsync(output, TestContext.Current.CancellationToken))[0]);
        Assert.Equal("0,r3", string.Join(',', (await File.ReadAllLinesAsync(output, TestContext.Current.CancellationToken))[1].Split(',')[..2]));
    }

    [Fact]
    public async Task BadInput_ExitsWith2_AndAMissingFileWith3()
    {
        var table = Table(200);
        string[] common = ["train-model", "--data-file", table, "--threads", "1"];
        Assert.Equal(ExitCodes.BadInput, (await CliHarness.RunAsync([.. common, "--task", "ranking", "--label", "value"])).ExitCode);
        Assert.Equal(ExitCodes.BadInput, (await CliHarness.RunAsync([.. common, "--task", "binary", "--label", "nope"])).ExitCode);
        Assert.Equal(ExitCodes.BadInput, (await CliHarness.RunAsync([.. common, "--task", "binary", "--label", "colour"])).ExitCode); // not 0/1, no --positive
        Assert.Equal(ExitCodes.BadInput, (await CliHarness.RunAsync([.. common, "--task", "binary", "--label", "colour", "--positive", "purple"])).ExitCode);
        Assert.Equal(ExitCodes.BadInput, (await CliHarness.RunAsync([.. common, "--task", "binary", "--label", "colour", "--positive", "red", "--cost-matrix", "1"])).ExitCode);
        Assert.Equal(ExitCodes.BadInput, (await CliHarness.RunAsync([.. common, "--task", "regression", "--label", "colour"])).ExitCode); // not numbers
        Assert.Equal(ExitCodes.BadInput, (await CliHarness.RunAsync([.. common, "--task", "binary", "--label", "colour", "--positive", "red", "--fallback", "tree"])).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync([.. common, "--task", "binary", "--label", "colour", "--positive", "red", "--cost-matrix", "1,5", "--ignore", "kind"])).ExitCode);
        Assert.Equal(ExitCodes.NotFound, (await CliHarness.RunAsync("train-model", "--task", "binary", "--data-file", Path.Combine(_dir, "none.csv"), "--label", "y")).ExitCode);

        var package = Path.Combine(_dir, "p.json");
        Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync([.. common, "--task", "regression", "--label", "value", "--ignore", "id,kind", "--out", package])).ExitCode);
        var narrow = Path.Combine(_dir, "narrow.csv");
        await File.WriteAllLinesAsync(narrow, ["a,colour", "1,red"], TestContext.Current.CancellationToken);
        var (exit, _, err) = await CliHarness.RunAsync("score-batch", "--model", package, "--input", narrow, "--output", Path.Combine(_dir, "o.csv"));
        Assert.True(exit == ExitCodes.BadInput && err.Contains("no column b", StringComparison.Ordinal), err);
        var wrong = Path.Combine(_dir, "wrong.csv");
        await File.WriteAllLinesAsync(wrong, ["a,b,colour", "1,x,red"], TestContext.Current.CancellationToken);
        (exit, _, err) = await CliHarness.RunAsync("score-batch", "--model", package, "--input", wrong, "--output", Path.Combine(_dir, "o.csv"));
        Assert.True(exit == ExitCodes.BadInput && err.Contains("Line 2, column b", StringComparison.Ordinal), err);
        Assert.Equal(ExitCodes.NotFound, (await CliHarness.RunAsync("score-batch", "--model", "nothing", "--data", Path.Combine(_dir, "nodata"), "--input", narrow, "--output", Path.Combine(_dir, "o.csv"))).ExitCode);
        Assert.Equal(ExitCodes.BadInput, (await CliHarness.RunAsync("score-batch", "--model", package, "--input", narrow, "--output", narrow)).ExitCode);
    }
}
