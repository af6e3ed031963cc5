using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Lasthope.Factors;

/// <summary>
/// Trains implicit-feedback ALS (Hu, Koren and Volinsky 2008) with warm-started conjugate gradient (Takács, Pilászy and
/// Tikk 2011) or exact Cholesky row solves; the equations are written beside the kernels in AlsKernels.cs.
/// </summary>
/// <remarks>
/// Each iteration solves every user with the item factors fixed, then every item with the user factors fixed. Rows are
/// processed by <see cref="AlsOptions.Threads"/> workers over chunks balanced by non-zeros. A row's solve reads only
/// the other side, so the result does not depend on the number of threads or on scheduling: the same data, options
/// and seed give the same factors bit for bit (the loss, a sum, is reduced in a fixed chunk order for the same reason).
/// </remarks>
public static class AlsTrainer
{
    /// <summary>Chunks per half-step, independent of the thread count so that reductions are deterministic.</summary>
    private const int TargetChunks = 2048;

    /// <summary>Trains a model on <paramref name="data"/>.</summary>
    /// <param name="data">The user x item matrix; users or items with no interaction get zero factors.</param>
    /// <param name="options">Hyperparameters; validated first.</param>
    /// <param name="progress">Receives one report per finished iteration, with the loss when computed.</param>
    /// <param name="cancellationToken">Checked between chunks of rows; cancellation throws <see cref="OperationCanceledException"/>.</param>
    public static AlsModel Train(InteractionMatrix data, AlsOptions options, IProgress<AlsIterationReport>? progress = null, CancellationToken cancellationToken = default) =>
        Train(data, options, warmStart: null, progress, cancellationToken);

    /// <summary>Trains a model on <paramref name="data"/>, starting from a previous model's factors where it can.</summary>
    /// <param name="data">The user x item matrix; users or items with no interaction get zero factors.</param>
    /// <param name="options">Hyperparameters; validated first.</param>
    /// <param name="warmStart">
    /// A previous model (for example the one serving): users and items it knows start from its factors instead of
    /// random ones, when the factor count matches, so a periodic retrain needs fewer iterations. New ids start random.
    /// </param>
    /// <param name="progress">Receives one report per finished iteration, with the loss when computed.</param>
    /// <param name="cancellationToken">Checked between chunks of rows; cancellation throws <see cref="OperationCanceledException"/>.</param>
    public static AlsModel Train(InteractionMatrix data, AlsOptions options, AlsModel? warmStart, IProgress<AlsIterationReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var byUser = data.ByUser;
        var byItem = data.ByItem;
        var userConfidence = Confidences(byUser.ValuesArray, options);
        var itemConfidence = Confidences(byItem.ValuesArray, options);

        var f = options.Factors;
        var users = new FactorMatrix(data.Users.Count, f);
        var items = new FactorMatrix(data.Items.Count, f);
        Initialize(users, items, options);
        if (warmStart is not null && warmStart.Factors == f)
        {
            CopyKnownRows(warmStart.Users, warmStart.UserMatrix, data.Users, users);
            CopyKnownRows(warmStart.Items, warmStart.ItemMatrix, data.Items, items);
        }

        var userChunks = Partition(byUser, f);
        var itemChunks = Partition(byItem, f);
        var workspaces = Workspaces(options, users.Stride, Math.Max(LongestRow(byUser), LongestRow(byItem)));
        var itemLoss = new double[itemChunks.Length - 1];
        var a0 = new float[users.Stride * users.Stride];
        var rotate = options.Solver == AlsSolver.ConjugateGradient && options.RotateToEigenbasis;
        var rotation = rotate ? new Rotation(f, users.Stride) : null;
        var lastLoss = double.NaN;
        var denominator = LossDenominator(byUser, userConfidence, data.Users.Count, data.Items.Count);

        for (var iteration = 1; iteration <= options.Iterations; iteration++)
        {
            var clock = Stopwatch.StartNew();
            var a = rotation?.Diagonalize(items, users, options.Regularization, options.Threads) ?? GramInto(items, options.Regularization, a0, options.Threads);
            SolveSide(users, items, byUser, userConfidence, a, rotate, userChunks, options, workspaces, null, cancellationToken);
            a = rotation?.Diagonalize(users, items, options.Regularization, options.Threads) ?? GramInto(users, options.Regularization, a0, options.Threads);
            SolveSide(items, users, byItem, itemConfidence, a, rotate, itemChunks, options, workspaces, options.ComputeLoss ? itemLoss : null, cancellationToken);

            if (options.ComputeLoss)
            {
                var loss = 0.0;
                foreach (var part in itemLoss)
                {
                    loss += part;
                }

                loss += options.Regularization * SquaredNorm(users);
                lastLoss = loss / denominator;
            }

            progress?.Report(new AlsIterationReport(iteration, options.Iterations, lastLoss, clock.Elapsed));
        }

        return new AlsModel(data.Users, data.Items, users, items, options.Regularization, byUser, ItemUserCounts(byItem), new AlsTrainingInfo(options, options.Iterations, lastLoss));
    }

    /// <summary>
    /// One user half-step with the item factors of <paramref name="model"/> held fixed and the chosen solver: what a
    /// retrain would give each user (for comparisons with <see cref="AlsModel.FoldIn(ReadOnlySpan{int}, ReadOnlySpan{float}, Span{float})"/>).
    /// </summary>
    internal static FactorMatrix SolveUsersWithFixedItems(AlsModel model, InteractionMatrix data, AlsOptions options)
    {
        var users = new FactorMatrix(data.Users.Count, options.Factors);
        var confidence = Confidences(data.ByUser.ValuesArray, options);
        var a0 = new float[users.Stride * users.Stride];
        Gram(model.ItemMatrix, options.Regularization, a0, options.Threads);
        SolveSide(users, model.ItemMatrix, data.ByUser, confidence, a0, false, Partition(data.ByUser, options.Factors), options, Workspaces(options, users.Stride, LongestRow(data.ByUser)), null, CancellationToken.None);
        return users;
    }

    /// <summary>Signed c - 1 per non-zero (see AlsOptions.ConfidenceMinusOne).</summary>
    internal static float[] Confidences(float[] weights, AlsOptions options)
    {
        var result = new float[weights.Length];
        for (var k = 0; k < weights.Length; k++)
        {
            result[k] = options.ConfidenceMinusOne(weights[k]);
        }

        return result;
    }

    /// <summary>Uniform [0, InitScale) from the seed: users first, then items, row by row.</summary>
    private static void Initialize(FactorMatrix users, FactorMatrix items, AlsOptions options)
    {
        var random = new Random(options.Seed);
        foreach (var m in (ReadOnlySpan<FactorMatrix>)[users, items])
        {
            for (var r = 0; r < m.Rows; r++)
            {
                var row = m.Row(r);
                for (var k = 0; k < row.Length; k++)
                {
                    row[k] = random.NextSingle() * options.InitScale;
                }
            }
        }
    }

    /// <summary>Copies the rows of ids the source model knows into the matching rows of the target.</summary>
    private static void CopyKnownRows(IdMap sourceIds, FactorMatrix source, IdMap targetIds, FactorMatrix target)
    {
        for (var r = 0; r < targetIds.Count; r++)
        {
            if (sourceIds.TryGetIndex(targetIds[r], out var s))
            {
                source.Row(s).CopyTo(target.Row(r));
            }
        }
    }

    /// <summary>Solves every row of <paramref name="target"/> given <paramref name="fixedSide"/>.</summary>
    private static void SolveSide(
        FactorMatrix target, FactorMatrix fixedSide, CsrMatrix rows, float[] confidence, float[] a0, bool diagonalA0, int[] chunks,
        AlsOptions options, CgWorkspace[] workspaces, double[]? lossPerChunk, CancellationToken cancellationToken)
    {
        var stride = target.Stride;
        var chunkCount = chunks.Length - 1;
        var next = -1;
        var rowStart = rows.RowStartArray;
        var indices = rows.IndicesArray;
        var threads = Math.Min(workspaces.Length, chunkCount);
        if (threads < 1)
        {
            return;
        }

        var fusedLoss = lossPerChunk is not null && options.Solver == AlsSolver.ConjugateGradient;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, worker =>
        {
            var workspace = workspaces[worker];
            int chunk;
            while ((chunk = Interlocked.Increment(ref next)) < chunkCount)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                var loss = 0.0;
                var chunkEnd = rowStart[chunks[chunk + 1]];
                workspace.Prefetched = 0;
                for (var row = chunks[chunk]; row < chunks[chunk + 1]; row++)
                {
                    var start = rowStart[row];
                    var length = rowStart[row + 1] - start;
                    var idx = indices.AsSpan(start, length);
                    var conf = confidence.AsSpan(start, length);
                    if (options.Solver == AlsSolver.ConjugateGradient)
                    {
                        loss += AlsKernels.SolveConjugateGradient(target, row, fixedSide, a0, idx, indices.AsSpan(start, chunkEnd - start), conf, options.CgSteps, workspace, fusedLoss, diagonalA0);
                    }
                    else
                    {
                        AlsKernels.SolveExact(target.Row(row), fixedSide, a0, idx, conf, workspace.Scratch, workspace.Solve);
                        if (lossPerChunk is not null)
                        {
                            loss += AlsKernels.LossTerm(target, row, fixedSide, a0, idx, conf, workspace.Scratch);
                        }
                    }
                }

                if (lossPerChunk is not null)
                {
                    lossPerChunk[chunk] = loss;
                }
            }
        });

        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// dst = M^T M + lambda I (stride x stride, zero outside the leading f x f block), summed over fixed chunks of rows
    /// in parallel and reduced in chunk order (so the result does not depend on the thread count).
    /// </summary>
    /// <remarks>
    /// With AVX-512 each chunk is accumulated by <see cref="AlsKernels.AccumulateGramUpper"/> in register tiles over
    /// the upper block triangle only, and the lower triangle is mirrored once at the end: 192 instead of 256 FMAs per
    /// row at 64 factors, and no store per FMA. The earlier rank-1 update per row (an axpy into each row of the
    /// 16 KB accumulator) was bound by its loads and stores and took 0.05-0.1 s of each last.fm-shape iteration.
    /// </remarks>
    internal static void Gram(FactorMatrix m, float lambda, Span<float> destination, int threads)
    {
        var stride = m.Stride;
        var size = stride * stride;
        const int RowsPerChunk = 2048;
        var chunkCount = Math.Max(1, (m.Rows + RowsPerChunk - 1) / RowsPerChunk);
        var partials = new float[chunkCount * size];
        var tiled = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;
        Parallel.For(0, chunkCount, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
        {
            var g = partials.AsSpan(chunk * size, size);
            ref var gRef = ref g[0];
            var end = Math.Min(m.Rows, (chunk + 1) * RowsPerChunk);
            var r = chunk * RowsPerChunk;
            if (tiled)
            {
                if (r < end)
                {
                    AlsKernels.AccumulateGramUpper(ref m.RowRef(r), end - r, m.Factors, stride, ref gRef);
                }

                return;
            }

            for (; r + 1 < end; r += 2)
            {
                ref var a = ref m.RowRef(r);
                ref var b = ref m.RowRef(r + 1);
                for (var k = 0; k < m.Factors; k++)
                {
                    ref var gk = ref Unsafe.Add(ref gRef, k * stride);
                    VectorMath.Axpy(Unsafe.Add(ref a, k), ref a, ref gk, stride);
                    VectorMath.Axpy(Unsafe.Add(ref b, k), ref b, ref gk, stride);
                }
            }

            if (r < end)
            {
                ref var a = ref m.RowRef(r);
                for (var k = 0; k < m.Factors; k++)
                {
                    VectorMath.Axpy(Unsafe.Add(ref a, k), ref a, ref Unsafe.Add(ref gRef, k * stride), stride);
                }
            }
        });

        var result = destination[..size];
        partials.AsSpan(0, size).CopyTo(result);
        for (var c = 1; c < chunkCount; c++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(result, partials.AsSpan(c * size, size), result);
        }

        if (tiled)
        {
            // The tiles computed the columns from each row's diagonal 16 x 16 block on; the rest is the mirror image.
            for (var k = 16; k < m.Factors; k++)
            {
                for (var j = 0; j < k / 16 * 16; j++)
                {
                    result[(k * stride) + j] = result[(j * stride) + k];
                }
            }
        }

        for (var k = 0; k < m.Factors; k++)
        {
            result[(k * stride) + k] += lambda;
        }
    }

    private static float[] GramInto(FactorMatrix m, float lambda, float[] destination, int threads)
    {
        Gram(m, lambda, destination, threads);
        return destination;
    }

    /// <summary>
    /// Keeps both factor matrices in the eigenbasis of the fixed side's Gram matrix, where A0 is diagonal.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Every CG pass over a row starts with A0 v, an f x f product (256 FMAs of 16 lanes at f = 64, as much as 32
    /// non-zeros cost), four times per row and half-step, and A0 (16 KB) shares the 32 KB L1 with the rows being read.
    /// Predictions x . y and the whole ALS problem are unchanged by an orthogonal change of basis (x -> V^T x and
    /// y -> V^T y for both sides), and so are CG's iterates (V^T x_k, exactly; CG is invariant under orthogonal
    /// transformations). So before each half-step, with the fixed side's Gram matrix G = F^T F = V diag(w) V^T
    /// (cyclic Jacobi, in double), both matrices are rotated, F <- F V and T <- T V: then F^T F = diag(w) and
    /// A0 = diag(w) + lambda I, whose product costs f multiplications. The rotation costs one f x f product per row
    /// of both sides per half-step, half of what the four A0 products per row cost.
    /// </para>
    /// <para>
    /// The trained model is in the last basis: its factors differ from an unrotated training by that rotation and by
    /// rounding, its scores, similarities and fold-ins do not. The same data, options and seed still give the same
    /// model bit for bit.
    /// </para>
    /// </remarks>
    private sealed class Rotation(int factors, int stride)
    {
        private readonly float[] _gram = new float[stride * stride];
        private readonly float[] _basis = new float[stride * stride];
        private readonly float[] _diagonal = new float[stride];
        private readonly double[] _a = new double[factors * factors];
        private readonly double[] _vectors = new double[factors * factors];
        private readonly double[] _values = new double[factors];

        /// <summary>Rotates both matrices into the eigenbasis of fixed^T fixed; returns the diagonal of A0.</summary>
        public float[] Diagonalize(FactorMatrix fixedSide, FactorMatrix target, float lambda, int threads)
        {
            Gram(fixedSide, 0f, _gram, threads);
            for (var i = 0; i < factors; i++)
            {
                for (var j = 0; j < factors; j++)
                {
                    _a[(i * factors) + j] = _gram[(i * stride) + j];
                }
            }

            SymmetricEigen.Decompose(_a, factors, _vectors, _values);
            for (var i = 0; i < factors; i++)
            {
                for (var j = 0; j < factors; j++)
                {
                    _basis[(i * stride) + j] = (float)_vectors[(i * factors) + j];
                }

                // A Gram matrix is positive semi-definite; rounding may leave a null direction slightly negative.
                _diagonal[i] = (float)Math.Max(0, _values[i]) + lambda;
            }

            Rotate(fixedSide, threads);
            Rotate(target, threads);
            return _diagonal;
        }

        /// <summary>Every row r of m becomes r V (f x f, in the stride-padded layout).</summary>
        private void Rotate(FactorMatrix m, int threads)
        {
            const int RowsPerChunk = 4096;
            var chunks = (m.Rows + RowsPerChunk - 1) / RowsPerChunk;
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => new float[stride], (chunk, _, row) =>
            {
                ref var basis = ref _basis[0];
                ref var t = ref row[0];
                var end = Math.Min(m.Rows, (chunk + 1) * RowsPerChunk);
                for (var r = chunk * RowsPerChunk; r < end; r++)
                {
                    ref var x = ref m.RowRef(r);
                    VectorMath.SymmetricProduct(ref basis, factors, stride, ref x, ref t, 1f);
                    Unsafe.CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref x), ref Unsafe.As<float, byte>(ref t), (uint)(stride * sizeof(float)));
                }

                return row;
            }, _ => { });
        }
    }

    /// <summary>Chunk boundaries with roughly equal work: a row costs its non-zeros plus f/4 for the A0 products.</summary>
    internal static int[] Partition(CsrMatrix rows, int factors)
    {
        var rowCost = (factors / 4) + 1;
        var total = (long)rows.NonZeros + ((long)rows.RowCount * rowCost);
        var target = Math.Max(1, total / TargetChunks);
        var bounds = new List<int>(TargetChunks + 2) { 0 };
        var cost = 0L;
        for (var r = 0; r < rows.RowCount; r++)
        {
            cost += rows.RowLength(r) + rowCost;
            if (cost >= target)
            {
                bounds.Add(r + 1);
                cost = 0;
            }
        }

        if (bounds[^1] != rows.RowCount)
        {
            bounds.Add(rows.RowCount);
        }

        return [.. bounds];
    }

    /// <summary>One workspace per worker thread, for every half-step of a training.</summary>
    private static CgWorkspace[] Workspaces(AlsOptions options, int stride, int longestRow) =>
        [.. Enumerable.Range(0, options.Threads).Select(_ => new CgWorkspace(stride, options.Factors, longestRow, options.Solver, options.ComputeLoss))];

    private static int LongestRow(CsrMatrix rows)
    {
        var longest = 0;
        for (var r = 0; r < rows.RowCount; r++)
        {
            longest = Math.Max(longest, rows.RowLength(r));
        }

        return longest;
    }

    private static double LossDenominator(CsrMatrix byUser, float[] confidence, int users, int items)
    {
        var totalConfidence = 0.0;
        foreach (var v in confidence)
        {
            totalConfidence += 1.0 + Math.Abs(v);
        }

        return totalConfidence + ((double)users * items) - byUser.NonZeros;
    }

    private static double SquaredNorm(FactorMatrix m)
    {
        var sum = 0.0;
        for (var r = 0; r < m.Rows; r++)
        {
            ref var row = ref m.RowRef(r);
            sum += VectorMath.Dot(ref row, ref row, m.Stride);
        }

        return sum;
    }

    private static int[] ItemUserCounts(CsrMatrix byItem)
    {
        var counts = new int[byItem.RowCount];
        for (var i = 0; i < counts.Length; i++)
        {
            foreach (var v in byItem.RowValues(i))
            {
                counts[i] += v > 0 ? 1 : 0;
            }
        }

        return counts;
    }
}
