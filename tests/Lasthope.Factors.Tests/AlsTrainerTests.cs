using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

public class AlsTrainerTests
{
    [Theory]
    [InlineData(AlsSolver.ConjugateGradient)]
    [InlineData(AlsSolver.Cholesky)]
    public void Train_OnOneCell_ConvergesToTheKnownFixedPoint(AlsSolver solver)
    {
        // One user, one item, f = 1: the loss c (1 - x y)^2 + lambda (x^2 + y^2) with c = 1 + alpha has its ALS fixed
        // point at x = y with x y = 1 - lambda / c (from lambda x = c y (1 - x y) and the same with x, y swapped).
        var data = TestMatrices.FromTriples(("u", "i", 1f));
        var options = new AlsOptions { Factors = 1, Alpha = 1f, Regularization = 0.1f, Iterations = 200, Solver = solver, Threads = 1 };
        var model = AlsTrainer.Train(data, options);
        Assert.Equal(1 - (0.1 / 2), model.Score(model.UserFactors(0), 0), 4);
        Assert.Equal(model.UserFactors(0)[0], model.ItemFactors(0)[0], 3);
    }

    [Theory]
    [InlineData(5, AlsSolver.ConjugateGradient)]
    [InlineData(64, AlsSolver.ConjugateGradient)]
    [InlineData(40, AlsSolver.ConjugateGradient)]
    [InlineData(5, AlsSolver.Cholesky)]
    public void ReportedLoss_EqualsTheLossComputedFromItsDefinition(int factors, AlsSolver solver)
    {
        // 30 x 20 at density 0.2 has rows longer and shorter than the kernels' blocks of eight non-zeros.
        var data = TestMatrices.Random(30, 20, 0.2, seed: 1);
        var options = new AlsOptions { Factors = factors, Alpha = 3f, Regularization = 0.5f, Iterations = 3, Threads = 2, Solver = solver };
        var reports = new List<AlsIterationReport>();
        var model = AlsTrainer.Train(data, options, new Inline<AlsIterationReport>(reports.Add));
        Assert.Equal(3, reports.Count);
        Assert.Equal(BruteForceLoss(model, data, options), reports[^1].Loss, 6);
        Assert.Equal(reports[^1].Loss, model.Training.FinalLoss);
    }

    [Fact]
    public void Loss_NeverIncreases_WithTheExactSolver()
    {
        var data = TestMatrices.Random(60, 40, 0.15, seed: 2);
        var losses = new List<double>();
        AlsTrainer.Train(data, new AlsOptions { Factors = 8, Iterations = 10, Solver = AlsSolver.Cholesky, Threads = 2 }, new Inline<AlsIterationReport>(r => losses.Add(r.Loss)));
        for (var k = 1; k < losses.Count; k++)
        {
            Assert.True(losses[k] <= losses[k - 1] * (1 + 1e-5), $"Loss rose from {losses[k - 1]} to {losses[k]} at iteration {k + 1}.");
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(10)]
    public void Train_RecoversAPlantedLowRankStructure(int factors)
    {
        var (data, userCluster, itemCluster) = TestMatrices.Planted(users: 120, items: 90, clusters: 3, density: 0.4, seed: 3);
        // Strong regularization: with f far above the true rank a weak lambda memorises the observed cells instead.
        var model = AlsTrainer.Train(data, new AlsOptions { Factors = factors, Alpha = 10f, Regularization = 20f, Iterations = 15 });

        // Every user's top 5 unseen items come from the user's own cluster (each cluster has ~18 unseen items).
        var top = new ScoredItem[5];
        for (var u = 0; u < data.Users.Count; u++)
        {
            var n = model.Recommend(u, top);
            Assert.Equal(5, n);
            Assert.All(top, s => Assert.Equal(userCluster[u], itemCluster[s.Item]));
        }

        // And items of one cluster are each other's nearest neighbours.
        for (var i = 0; i < data.Items.Count; i++)
        {
            model.Similar(i, top);
            Assert.All(top, s => Assert.Equal(itemCluster[i], itemCluster[s.Item]));
        }
    }

    [Fact]
    public void Factors_DoNotDependOnTheThreadCount()
    {
        var data = TestMatrices.Random(300, 200, 0.05, seed: 4);
        var one = AlsTrainer.Train(data, new AlsOptions { Factors = 64, Iterations = 3, Threads = 1 });
        var two = AlsTrainer.Train(data, new AlsOptions { Factors = 64, Iterations = 3, Threads = 2 });
        Assert.Equal(one.UserMatrix.All.ToArray(), two.UserMatrix.All.ToArray());
        Assert.Equal(one.ItemMatrix.All.ToArray(), two.ItemMatrix.All.ToArray());
        Assert.Equal(one.Training.FinalLoss, two.Training.FinalLoss);
    }

    [Fact]
    public void Seed_DecidesTheModel()
    {
        var data = TestMatrices.Random(50, 30, 0.1, seed: 5);
        var a = AlsTrainer.Train(data, new AlsOptions { Factors = 4, Iterations = 2, Seed = 1 });
        var b = AlsTrainer.Train(data, new AlsOptions { Factors = 4, Iterations = 2, Seed = 1 });
        var c = AlsTrainer.Train(data, new AlsOptions { Factors = 4, Iterations = 2, Seed = 2 });
        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.NotEqual(a.Fingerprint, c.Fingerprint);
    }

    [Fact]
    public void ConjugateGradient_WithManySteps_ReachesTheExactSolve()
    {
        var data = TestMatrices.Random(40, 30, 0.2, seed: 6);
        var model = AlsTrainer.Train(data, new AlsOptions { Factors = 6, Iterations = 3 });
        var exact = AlsTrainer.SolveUsersWithFixedItems(model, data, model.Training.Options with { Solver = AlsSolver.Cholesky });
        var cg = AlsTrainer.SolveUsersWithFixedItems(model, data, model.Training.Options with { CgSteps = 30 });
        for (var u = 0; u < data.Users.Count; u++)
        {
            AssertClose(exact.Row(u), cg.Row(u), 1e-3f);
        }
    }

    [Fact]
    public void UsersAndItemsWithoutInteractions_GetZeroFactors()
    {
        var builder = new InteractionLogBuilder(IdMap.Create(["a", "b", "idle"]), IdMap.Create(["x", "y", "unused"]));
        builder.Add("a", "x");
        builder.Add("b", "y");
        var model = AlsTrainer.Train(builder.Build().ToMatrix(), new AlsOptions { Factors = 3, Iterations = 2 });
        Assert.All(model.UserFactors(2).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(model.ItemFactors(2).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Train_Throws_WhenCancelled()
    {
        var data = TestMatrices.Random(50, 30, 0.1, seed: 7);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => AlsTrainer.Train(data, new AlsOptions { Factors = 4 }, null, cts.Token));
    }

    [Theory]
    [InlineData(0, 1f, 1f)]
    [InlineData(8, -1f, 1f)]
    [InlineData(8, 0.01f, 0f)]
    [InlineData(8, 0.01f, float.NaN)]
    public void Options_AreValidated(int factors, float regularization, float alpha)
    {
        var options = new AlsOptions { Factors = factors, Regularization = regularization, Alpha = alpha };
        Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
    }

    [Fact]
    public void LogarithmicConfidence_DampsLargeWeights()
    {
        var linear = new AlsOptions { Alpha = 2f };
        var log = new AlsOptions { Alpha = 2f, Confidence = ConfidenceScaling.Logarithmic, Epsilon = 1f };
        Assert.Equal(20f, linear.ConfidenceMinusOne(10f));
        Assert.Equal(2f * MathF.Log(11f), log.ConfidenceMinusOne(10f), 5);
        Assert.Equal(-20f, linear.ConfidenceMinusOne(-10f));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 70)]
    [InlineData(16, 3000)]
    [InlineData(17, 65)]
    [InlineData(40, 129)]
    [InlineData(64, 4200)]
    [InlineData(100, 300)]
    public void Gram_EqualsMTransposeMPlusLambda_ComputedFromItsDefinition(int factors, int rows)
    {
        var random = new Random(factors * 1000 + rows);
        var m = new FactorMatrix(rows, factors);
        for (var r = 0; r < rows; r++)
        {
            var row = m.Row(r);
            for (var k = 0; k < factors; k++)
            {
                row[k] = (random.NextSingle() * 2) - 1;
            }
        }

        var g = new float[m.Stride * m.Stride];
        AlsTrainer.Gram(m, 0.5f, g, threads: 2);
        for (var i = 0; i < m.Stride; i++)
        {
            for (var j = 0; j < m.Stride; j++)
            {
                var expected = 0.0;
                if (i < factors && j < factors)
                {
                    for (var r = 0; r < rows; r++)
                    {
                        expected += (double)m.Row(r)[i] * m.Row(r)[j];
                    }

                    expected += i == j ? 0.5 : 0;
                }

                Assert.True(Math.Abs(expected - g[(i * m.Stride) + j]) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"G[{i},{j}] = {g[(i * m.Stride) + j]}, expected {expected}.");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    public void SymmetricEigen_Reconstructs_AndGivesOrthonormalVectors(int n)
    {
        var random = new Random(n);
        var b = Enumerable.Range(0, n * n).Select(_ => random.NextDouble() - 0.5).ToArray();
        var a = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                for (var k = 0; k < n; k++)
                {
                    a[(i * n) + j] += b[(i * n) + k] * b[(j * n) + k];
                }
            }
        }

        var original = (double[])a.Clone();
        var vectors = new double[n * n];
        var values = new double[n];
        SymmetricEigen.Decompose(a, n, vectors, values);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double reconstructed = 0, gram = 0;
                for (var k = 0; k < n; k++)
                {
                    reconstructed += vectors[(i * n) + k] * values[k] * vectors[(j * n) + k];
                    gram += vectors[(k * n) + i] * vectors[(k * n) + j];
                }

                Assert.Equal(original[(i * n) + j], reconstructed, 9);
                Assert.Equal(i == j ? 1 : 0, gram, 9);
            }
        }
    }

    [Theory]
    [InlineData(64, 0.05, 30, 1e-4)]
    [InlineData(24, 0.2, 30, 1e-4)]
    [InlineData(64, 0.05, 3, 0.05)]
    public void Training_InTheEigenbasis_GivesTheSameScoresAndLoss_AsTheUnrotatedKernels(int factors, double density, int cgSteps, double tolerance)
    {
        // CG is invariant under an orthogonal change of basis in exact arithmetic. In float32 a few unconverged steps
        // amplify rounding about tenfold per step (measured: 3e-7, 2e-6, 2e-5 after 1, 2, 3 steps of one half-step,
        // 0.03 after 10, in either basis alike), so with 3 steps the two trainings agree to a few thousandths, and
        // with CG run to convergence to rounding.
        var data = TestMatrices.Random(150, 90, density, seed: 8);
        var options = new AlsOptions { Factors = factors, Regularization = 2f, Alpha = 5f, Iterations = 6, CgSteps = cgSteps };
        var rotated = AlsTrainer.Train(data, options);
        var plain = AlsTrainer.Train(data, options with { RotateToEigenbasis = false });

        // The factors themselves differ by the rotation; what users see does not.
        Assert.NotEqual(rotated.ItemFactors(0).ToArray(), plain.ItemFactors(0).ToArray());
        Assert.True(Math.Abs(plain.Training.FinalLoss - rotated.Training.FinalLoss) <= tolerance * plain.Training.FinalLoss, $"loss {rotated.Training.FinalLoss} against {plain.Training.FinalLoss}");
        var worst = 0.0;
        for (var u = 0; u < data.Users.Count; u++)
        {
            for (var i = 0; i < data.Items.Count; i++)
            {
                worst = Math.Max(worst, Math.Abs(rotated.Score(rotated.UserFactors(u), i) - plain.Score(plain.UserFactors(u), i)));
            }
        }

        Assert.True(worst < tolerance, $"largest score difference {worst}");
    }

    internal static double BruteForceLoss(AlsModel model, InteractionMatrix data, AlsOptions options)
    {
        double loss = 0, confidence = 0;
        for (var u = 0; u < data.Users.Count; u++)
        {
            var idx = data.ByUser.RowIndices(u);
            var val = data.ByUser.RowValues(u);
            for (var i = 0; i < data.Items.Count; i++)
            {
                double s = model.Score(model.UserFactors(u), i);
                var k = idx.IndexOf(i);
                if (k < 0)
                {
                    loss += s * s;
                }
                else
                {
                    var c = 1.0 + Math.Abs(options.ConfidenceMinusOne(val[k]));
                    var p = val[k] > 0 ? 1.0 : 0.0;
                    loss += c * (p - s) * (p - s);
                    confidence += c;
                }
            }

            loss += options.Regularization * SquaredNorm(model.UserFactors(u));
        }

        for (var i = 0; i < data.Items.Count; i++)
        {
            loss += options.Regularization * SquaredNorm(model.ItemFactors(i));
        }

        return loss / (confidence + ((double)data.Users.Count * data.Items.Count) - data.NonZeros);
    }

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = 1f;
        foreach (var e in expected)
        {
            scale = MathF.Max(scale, MathF.Abs(e));
        }

        for (var k = 0; k < expected.Length; k++)
        {
            Assert.True(MathF.Abs(expected[k] - actual[k]) <= tolerance * scale, $"Component {k}: expected {expected[k]}, got {actual[k]}.");
        }
    }

    private static double SquaredNorm(ReadOnlySpan<float> v)
    {
        var sum = 0.0;
        foreach (var x in v)
        {
            sum += (double)x * x;
        }

        return sum;
    }
}

/// <summary>An IProgress that reports synchronously.</summary>
internal sealed class Inline<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

public class AlsWarmStartAndConcurrencyTests
{
    [Fact]
    public void WarmStart_FromAConvergedModel_StartsNearItsLoss()
    {
        var data = TestMatrices.Random(200, 120, 0.05, seed: 31);
        var options = new AlsOptions { Factors = 16, Regularization = 1f, Iterations = 15 };
        var converged = AlsTrainer.Train(data, options);
        var cold = new List<double>();
        var warm = new List<double>();
        AlsTrainer.Train(data, options with { Iterations = 1 }, new Inline<AlsIterationReport>(r => cold.Add(r.Loss)));
        AlsTrainer.Train(data, options with { Iterations = 1 }, converged, new Inline<AlsIterationReport>(r => warm.Add(r.Loss)));
        Assert.True(warm[0] < cold[0], $"warm {warm[0]} should start below cold {cold[0]}");
        Assert.True(warm[0] <= converged.Training.FinalLoss * 1.001, $"warm {warm[0]} should be no worse than the converged {converged.Training.FinalLoss}");
    }

    [Fact]
    public void WarmStart_IsIgnored_WhenTheFactorCountDiffers()
    {
        var data = TestMatrices.Random(50, 30, 0.1, seed: 32);
        var other = AlsTrainer.Train(data, new AlsOptions { Factors = 4, Iterations = 2 });
        var a = AlsTrainer.Train(data, new AlsOptions { Factors = 8, Iterations = 2 });
        var b = AlsTrainer.Train(data, new AlsOptions { Factors = 8, Iterations = 2 }, other);
        Assert.Equal(a.Fingerprint, b.Fingerprint);
    }

    [Fact]
    public void Model_GivesTheSameAnswers_FromManyThreadsAtOnce()
    {
        var data = TestMatrices.Random(300, 400, 0.05, seed: 33);
        var model = AlsTrainer.Train(data, new AlsOptions { Factors = 32, Iterations = 3 });
        var expected = Enumerable.Range(0, data.Users.Count).Select(u => Top(model, u)).ToArray();
        var actual = new string[data.Users.Count];
        Parallel.For(0, data.Users.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            var u = k % data.Users.Count;
            var folded = model.FoldIn(data.ByUser.RowIndices(u).ToArray().Select(i => new KeyValuePair<string, float>(data.Items[i], 1f)));
            Assert.Equal(model.Factors, folded.Factors.Length);
            actual[u] = Top(model, u);
        });
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void LoadedModel_KnowsItsFingerprint_FromTheTrailer()
    {
        var model = AlsModelFormatTests.GoldenModel();
        var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = AlsModel.Load(stream);
        Assert.Equal(model.Fingerprint, loaded.Fingerprint);
        Assert.Equal(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(stream.ToArray().AsSpan(^4)), loaded.Fingerprint);
    }

    private static string Top(AlsModel model, int user)
    {
        var top = new ScoredItem[5];
        var n = model.Recommend(user, top);
        return string.Join(',', top.Take(n).Select(s => s.Item));
    }
}
