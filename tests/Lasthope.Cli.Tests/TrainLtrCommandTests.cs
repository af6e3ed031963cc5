using Lasthope.Testing;
using Lasthope.Trees;

namespace Lasthope.Cli.Tests;

/// <summary><c>lasthope train-ltr</c>: LambdaMART through native LightGBM from LibSVM files with .query files.</summary>
public sealed class TrainLtrCommandTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public TrainLtrCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TrainLtr_OnTheLambdarankExample_WritesALightGbmModel_AndReportsValidationNdcg()
    {
        var train = TestData.Require("lambdarank/rank.train");
        var test = TestData.Require("lambdarank/rank.test");
        var model = Path.Combine(_dir, "rank.txt");

        var (exit, _, err) = await CliHarness.RunAsync(
            "train-ltr", "--train", train, "--valid", test, "--out", model, "--iterations", "30", "--min-data-in-leaf", "50",
            "--min-sum-hessian-in-leaf", "5", "--bagging-freq", "1", "--bagging-fraction", "0.9", "--threads", "1", "--seed", "1");

        Assert.True(exit == ExitCodes.Ok, err);
        var loaded = TreeModel.Load(model);
        Assert.Equal("lambdarank", loaded.Objective);
        Assert.Equal(30, loaded.TreeCount);
        Assert.Contains("ndcg@10", err, StringComparison.Ordinal);
        Assert.Contains("95% bootstrap", err, StringComparison.Ordinal);
        Assert.Contains("positions", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainLtr_WithEarlyStopping_KeepsFewerTrees()
    {
        var train = Path.Combine(_dir, "train.libsvm");
        var valid = Path.Combine(_dir, "valid.libsvm");
        ModelCommandsTests.WriteLibSvm(train, 800, 1);
        ModelCommandsTests.WriteLibSvm(valid, 300, 2);
        var model = Path.Combine(_dir, "model.txt");

        var (exit, _, err) = await CliHarness.RunAsync(
            "train-ltr", "--train", train, "--valid", valid, "--out", model, "--iterations", "400", "--learning-rate", "0.5",
            "--min-data-in-leaf", "5", "--early-stopping", "5", "--threads", "1", "--seed", "1");

        Assert.True(exit == ExitCodes.Ok, err);
        Assert.InRange(TreeModel.Load(model).TreeCount, 1, 399);
    }

    [Fact]
    public async Task TrainLtr_WithoutAQueryFile_IsBadInput()
    {
        var train = Path.Combine(_dir, "train.libsvm");
        ModelCommandsTests.WriteLibSvm(train, 100, 1);
        File.Delete(train + ".query");

        var (exit, _, err) = await CliHarness.RunAsync("train-ltr", "--train", train, "--out", Path.Combine(_dir, "m.txt"));

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(".query", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainLtr_MissingTrainingFile_IsNotFound()
    {
        var (exit, _, _) = await CliHarness.RunAsync("train-ltr", "--train", Path.Combine(_dir, "none.libsvm"), "--out", Path.Combine(_dir, "m.txt"));

        Assert.Equal(ExitCodes.NotFound, exit);
    }

    [Fact]
    public async Task TrainLtr_ParameterLightGbmRejects_IsBadInput_WithLightGbmsMessage()
    {
        var train = Path.Combine(_dir, "train.libsvm");
        ModelCommandsTests.WriteLibSvm(train, 100, 1);

        var (exit, _, err) = await CliHarness.RunAsync("train-ltr", "--train", train, "--out", Path.Combine(_dir, "m.txt"), "--param", "num_leaves=-3", "--threads", "1");

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("num_leaves", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainLtr_MalformedParameter_IsBadInput()
    {
        var train = Path.Combine(_dir, "train.libsvm");
        ModelCommandsTests.WriteLibSvm(train, 100, 1);

        var (exit, _, err) = await CliHarness.RunAsync("train-ltr", "--train", train, "--out", Path.Combine(_dir, "m.txt"), "--param", "oops");

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("name=value", err, StringComparison.Ordinal);
    }
}
