using System.Runtime.InteropServices;
using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>Training through native LightGBM: early stopping, determinism, query inputs, and its environment.</summary>
public sealed partial class LightGbmTrainerTests
{
    private static (TrainingData Train, TrainingData Valid) RankingData()
    {
        var (x, y, g) = Synthetic.Make(3000, 31, ranking: true);
        var (vx, vy, vg) = Synthetic.Make(1000, 32, ranking: true);
        return (new TrainingData(x, 3000, Synthetic.Columns, y) { Groups = g }, new TrainingData(vx, 1000, Synthetic.Columns, vy) { Groups = vg });
    }

    private static LightGbmTrainingOptions Options(int iterations, int earlyStopping = 0) => new()
    {
        Objective = LightGbmObjective.LambdaRank,
        Iterations = iterations,
        NumLeaves = 31,
        MinDataInLeaf = 5,
        LearningRate = 0.3,
        EarlyStoppingRounds = earlyStopping,
        EarlyStoppingMetric = "ndcg@10",
        Threads = 1,
        Seed = 3,
    };

    [Fact]
    public void EarlyStopping_KeepsTheBestIteration()
    {
        var (train, valid) = RankingData();
        var reports = new List<TrainingProgress>();

        var result = LightGbmTrainer.Train(Options(300, earlyStopping: 10), train, valid, reports.Add);

        Assert.True(result.IterationsRun < 300, "training did not stop early");
        Assert.Equal(result.BestIteration + 10, result.IterationsRun);
        Assert.Equal(result.IterationsRun, reports.Count);
        Assert.Equal(result.BestIteration, result.IterationsKept);
        Assert.Equal(result.BestIteration, TreeModel.FromLightGbm(result.ModelText).TreeCount);
        var best = reports.Max(r => r.Metric("ndcg@10")!.Value);
        Assert.Equal(best, result.BestMetric);
        Assert.Equal(["ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10"], reports[0].Validation.Select(m => m.Name));
    }

    [Fact]
    public void WithoutEarlyStopping_EveryIterationIsKept()
    {
        var (train, valid) = RankingData();

        var result = LightGbmTrainer.Train(Options(30), train, valid);

        Assert.Equal(30, result.IterationsKept);
        Assert.Equal(30, TreeModel.FromLightGbm(result.ModelText).TreeCount);
        Assert.InRange(result.BestIteration, 1, 30);
    }

    [Fact]
    public void SameSeedAndThreads_TrainTheSameModel()
    {
        var (train, valid) = RankingData();
        var options = Options(20) with { BaggingFraction = 0.8, BaggingFrequency = 1, FeatureFraction = 0.7 };

        var a = LightGbmTrainer.Train(options, train, valid).ModelText;
        var b = LightGbmTrainer.Train(options, train, valid).ModelText;
        var c = LightGbmTrainer.Train(options with { Seed = 4 }, train, valid).ModelText;

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void PositionsAndLabelGains_ChangeTheModel()
    {
        var (train, valid) = RankingData();
        var positions = new int[train.Rows];
        var offset = 0;
        foreach (var size in train.Groups.Span)
        {
            for (var i = 0; i < size; i++)
            {
                positions[offset + i] = i;
            }

            offset += size;
        }

        var plain = LightGbmTrainer.Train(Options(10), train, valid).ModelText;
        var withPositions = LightGbmTrainer.Train(Options(10), new TrainingData(train.Features, train.Rows, train.Columns, train.Labels) { Groups = train.Groups, Positions = positions }, valid).ModelText;
        var withGains = LightGbmTrainer.Train(Options(10) with { LabelGain = [0, 1, 2, 3, 4] }, train, valid).ModelText;

        Assert.NotEqual(Trees(plain), Trees(withPositions));
        Assert.NotEqual(Trees(plain), Trees(withGains));
        Assert.Contains("[label_gain: 0,1,2,3,4]", withGains, StringComparison.Ordinal);
    }

    [Fact]
    public void FeatureNames_AreWrittenIntoTheModel()
    {
        var (train, _) = RankingData();
        string[] names = ["cat_a", "cat_b", "c2", "c3", "c4", "c5", "c6", "c7"];

        var model = TreeModel.FromLightGbm(LightGbmTrainer.Train(Options(3) with { FeatureNames = names }, train).ModelText);

        Assert.Equal(names, model.FeatureNames);
    }

    [Fact]
    public void RankingWithoutGroups_IsRefused()
    {
        var (train, _) = RankingData();
        var ungrouped = new TrainingData(train.Features, train.Rows, train.Columns, train.Labels);
        var badGroups = new TrainingData(train.Features, train.Rows, train.Columns, train.Labels) { Groups = new[] { 5, 5 } };

        Assert.Throws<ArgumentException>(() => LightGbmTrainer.Train(Options(3), ungrouped));
        Assert.Throws<ArgumentException>(() => LightGbmTrainer.Train(Options(3), badGroups));
    }

    [Fact]
    public void Cancellation_StopsTraining()
    {
        var (train, valid) = RankingData();
        using var cts = new CancellationTokenSource();

        Assert.Throws<OperationCanceledException>(() => LightGbmTrainer.Train(Options(100), train, valid, p =>
        {
            if (p.Iteration == 3)
            {
                cts.Cancel();
            }
        }, cts.Token));
    }

    [Fact]
    public void LightGbmErrors_BecomeExceptionsWithLightGbmsMessage()
    {
        var (train, _) = RankingData();

        var error = Assert.Throws<LightGbmException>(() => LightGbmTrainer.Train(Options(3) with { Parameters = new Dictionary<string, string> { ["num_leaves"] = "-5" } }, train));
        Assert.Contains("num_leaves", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenMpWaitPolicy_IsPassive_InTheNativeEnvironment()
    {
        var (train, _) = RankingData();
        LightGbmTrainer.Train(Options(1), train);

        var value = Marshal.PtrToStringUTF8(GetEnv("OMP_WAIT_POLICY"));
        Assert.Equal(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "PASSIVE", value);
    }

    private static string Trees(string modelText) => modelText[modelText.IndexOf("Tree=0", StringComparison.Ordinal)..modelText.IndexOf("end of trees", StringComparison.Ordinal)];

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetEnv(string name);
}
