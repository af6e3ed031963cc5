using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lasthope.Factors;

/*
 * Implicit-feedback ALS: the maths the kernels below implement.
 *
 * Hu, Koren and Volinsky, "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008
 * (https://doi.org/10.1109/ICDM.2008.22). For user u and item i with summed event weight r_ui:
 *
 *     preference  p_ui = 1 if r_ui > 0, else 0               (absent cells have r = 0)
 *     confidence  c_ui = 1 + alpha |r_ui|                     (or 1 + alpha log(1 + |r_ui| / eps))
 *     loss        L = sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + lambda (sum_u |x_u|^2 + sum_i |y_i|^2)
 *
 * With the item factors Y (n x f) fixed, each user's x_u solves the normal equations (paper, eq. 4)
 *
 *     (Y^T C_u Y + lambda I) x_u = Y^T C_u p_u
 *
 * and the trick that makes this cheap is that C_u = I + (C_u - I), where C_u - I is non-zero only on the n_u items
 * the user has, so
 *
 *     A_u = (Y^T Y + lambda I)  +  sum_{i in I_u} (c_ui - 1) y_i y_i^T         A0 = Y^T Y + lambda I, once per half-step
 *     b_u = sum_{i in I_u} c_ui p_ui y_i
 *
 * The item half-step is the same with the roles of X and Y swapped (A0 = X^T X + lambda I).
 *
 * Takács, Pilászy and Tikk, "Applications of the Conjugate Gradient Method for Implicit Feedback Collaborative
 * Filtering", RecSys 2011 (https://doi.org/10.1145/2043932.2043987): instead of forming A_u (n_u f^2) and factoring
 * it (f^3), run a few conjugate-gradient steps on A_u x = b_u started from the previous x_u. A_u is never formed:
 *
 *     A_u v = A0 v + sum_{i in I_u} (c_ui - 1) (y_i . v) y_i                    O(f^2 + n_u f)
 *
 *     r = b_u - A_u x = -A0 x + sum_{i in I_u} [c_ui p_ui - (c_ui - 1)(y_i . x)] y_i
 *     p = r, rs = r . r
 *     repeat cg_steps times:
 *         q = A_u p;  a = rs / (p . q)
 *         x += a p;   r -= a q
 *         rs' = r . r;  stop if rs' < 1e-20
 *         p = r + (rs' / rs) p;  rs = rs'
 *
 * benfred/implicit (implicit/cpu/_als.pyx, least_squares_cg) does the same with BLAS level-1 calls per non-zero;
 * here the per-non-zero dot and axpy are fused into one pass that keeps v and the accumulator in registers.
 *
 * Storage of the non-zeros: the kernels read one signed float v per cell, |v| = c - 1 and sign(v) = the preference
 * (AlsOptions.ConfidenceMinusOne), so c p = (1 + |v|) when v > 0 and 0 otherwise.
 */

/// <summary>
/// One worker's buffers for the row solves of a half-step, allocated once per training and reused for every row.
/// </summary>
internal sealed class CgWorkspace
{
    /// <summary>Rows of the fixed side a row may gather into <see cref="Gather"/> (16 MB at 64 factors); longer rows read in place.</summary>
    public const int MaxGatherRows = 1 << 16;

    private readonly float[] _gather;
    private readonly int _gatherOffset;

    /// <param name="stride">The factor matrices' row stride.</param>
    /// <param name="factors">The factor count f.</param>
    /// <param name="longestRow">The most non-zeros of any row either half-step solves.</param>
    /// <param name="solver">The row solver.</param>
    /// <param name="loss">Whether the loss is computed (it needs two floats per non-zero).</param>
    public CgWorkspace(int stride, int factors, int longestRow, AlsSolver solver, bool loss)
    {
        Scratch = new float[Math.Max(3 * stride, solver == AlsSolver.Cholesky ? stride * stride : 0)];
        Solve = solver == AlsSolver.Cholesky ? new double[(factors * factors) + factors] : [];
        Dots = loss ? new float[longestRow] : [];
        GatherRows = solver == AlsSolver.ConjugateGradient && stride == 64 && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? Math.Min(longestRow, MaxGatherRows) : 0;

        // Pinned and 64-byte aligned, like the factor matrices, so gathered rows never split a cache line.
        _gather = GC.AllocateUninitializedArray<float>((GatherRows * stride) + FactorMatrix.Alignment, pinned: true);
        unsafe
        {
            var address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_gather));
            _gatherOffset = (int)((64 - (address % 64)) % 64) / sizeof(float);
        }
    }

    /// <summary>r, p and q of CG (3 * stride floats), or the Cholesky solver's matrix.</summary>
    public float[] Scratch { get; }

    /// <summary>The Cholesky solver's double-precision system.</summary>
    public double[] Solve { get; }

    /// <summary>The residual pass's dots y_j . x_0 for the loss (empty without the loss).</summary>
    public float[] Dots { get; }

    /// <summary>
    /// How far (an index into the CSR index array) the fixed-side rows of the rows still to come have been prefetched:
    /// the product passes of one row prefetch the start of the next rows, so that memory is read while they compute.
    /// </summary>
    public int Prefetched { get; set; }

    /// <summary>How many fixed-side rows <see cref="Gather"/> holds (0: the kernel reads rows in place).</summary>
    public int GatherRows { get; }

    /// <summary>The fixed-side rows of the row being solved, copied contiguously by the first pass.</summary>
    public Span<float> Gather => _gather.AsSpan(_gatherOffset, GatherRows * 64);
}

/// <summary>The per-row ALS kernels (see the equations above).</summary>
internal static class AlsKernels
{
    /// <summary>Residual tolerance of CG, on r . r (as implicit).</summary>
    public const float CgTolerance = 1e-20f;

    /// <summary>How many non-zeros ahead the first pass over a row prefetches the fixed-side rows it will read.</summary>
    private const int PrefetchDistance = 16;

    /// <summary>
    /// How many non-zeros past the end of the row being solved its product passes may prefetch (the next rows' first
    /// fixed-side rows): 256 rows of 64 floats are 64 KB, which the 1 MB L2 holds beside the row's gathered block.
    /// </summary>
    private const int LookaheadRows = 256;

    /// <summary>Rows the product passes prefetch per block of eight non-zeros.</summary>
    private const int LookaheadPerBlock = 2;

    /// <summary>How one pass over a row's non-zeros turns the dot y_i . v into the coefficient of y_i.</summary>
    private interface IRowPass
    {
        /// <summary>Sign of the A0 v term.</summary>
        static abstract float A0Sign { get; }

        /// <summary>Whether the pass is the first over its rows, whose loads miss the cache (prefetch them).</summary>
        static abstract bool Prefetch { get; }

        static abstract float Coefficient(float signedConfidenceMinusOne, float dot);

        static abstract Vector256<float> Coefficients(Vector256<float> signedConfidenceMinusOne, Vector256<float> dots);
    }

    /// <summary>r = b - A x: coefficient c p - (c - 1)(y . x), and -A0 x.</summary>
    private readonly struct ResidualPass : IRowPass
    {
        public static float A0Sign => -1f;

        public static bool Prefetch => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Coefficients(Vector256<float> v, Vector256<float> dots)
        {
            var cm1 = Vector256.Abs(v);
            var cp = Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), cm1 + Vector256<float>.One, Vector256<float>.Zero);
            return cp - (cm1 * dots);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Coefficient(float v, float dot)
        {
            var cm1 = MathF.Abs(v);
            return (v > 0 ? 1f + cm1 : 0f) - (cm1 * dot);
        }
    }

    /// <summary>q = A p: coefficient (c - 1)(y . p), and +A0 p.</summary>
    private readonly struct ProductPass : IRowPass
    {
        public static float A0Sign => 1f;

        public static bool Prefetch => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Coefficients(Vector256<float> v, Vector256<float> dots) => Vector256.Abs(v) * dots;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Coefficient(float v, float dot) => MathF.Abs(v) * dot;
    }

    /// <summary>
    /// A few CG steps on row <paramref name="row"/> of <paramref name="target"/>, warm-started from its current value.
    /// </summary>
    /// <param name="target">The side being solved; the row is updated in place.</param>
    /// <param name="row">The row to solve.</param>
    /// <param name="fixedSide">The other side's factors.</param>
    /// <param name="a0">A0 = fixed^T fixed + lambda I, stride x stride; or its diagonal (stride floats) when <paramref name="diagonalA0"/>.</param>
    /// <param name="indices">The row's non-zeros (column indices into <paramref name="fixedSide"/>).</param>
    /// <param name="ahead">
    /// The non-zeros from this row's first to the end of the rows the caller will solve next (a suffix of the CSR
    /// index array that starts with <paramref name="indices"/>): the first pass prefetches the fixed-side rows
    /// <see cref="PrefetchDistance"/> non-zeros ahead in it, across row boundaries, so that a short row does not begin
    /// with a run of cache misses.
    /// </param>
    /// <param name="confidence">Signed c - 1 per non-zero.</param>
    /// <param name="steps">CG steps.</param>
    /// <param name="workspace">The worker's buffers (CG vectors, the fused loss's dots, the gathered rows).</param>
    /// <param name="loss">
    /// Return the row's loss term (see <see cref="LossTerm"/>), computed from the quantities CG already formed (see
    /// the remarks) instead of another pass over the non-zeros.
    /// </param>
    /// <param name="diagonalA0">A0 is diagonal (the factors are in the eigenbasis of the fixed side's Gram matrix).</param>
    /// <returns>The row's loss term when <paramref name="loss"/>, else 0.</returns>
    /// <remarks>
    /// <para>
    /// The loss term needs no pass of its own. With f(x) = x^T A x - 2 b^T x, the row's term is
    /// y^T A0 y + sum_j [c_j (p_j - s_j)^2 - s_j^2] = f(x) + sum_j c_j p_j (expand A and b, and p_j^2 = p_j). At the warm
    /// start, A x_0 = b - r_0 gives f(x_0) = -b . x_0 - x_0 . r_0, and b . x_0 = sum_j c_j p_j (y_j . x_0) uses the
    /// residual pass's own dots. Each CG step then lowers f by exactly alpha_k r_k . r_k (the line minimum along p_k,
    /// with p_k . r_k = r_k . r_k; Hestenes and Stiefel 1952, or Shewchuk, "An Introduction to the Conjugate Gradient
    /// Method Without the Agonizing Pain", 1994, section 8). So
    /// term = sum_j c_j p_j (1 - y_j . x_0) - x_0 . r_0 - sum_k alpha_k r_k . r_k, equal to the direct sum up to
    /// rounding. (The previous kernel kept s_j = y_j . x up to date with a multiply-add per non-zero and step, and
    /// then summed the loss per non-zero in a scalar loop.)
    /// </para>
    /// <para>
    /// The first pass prefetches the fixed-side rows <see cref="PrefetchDistance"/> non-zeros ahead of itself; the
    /// product passes, whose rows are in the cache (gathered), prefetch the following rows' fixed-side rows, up to
    /// <see cref="LookaheadRows"/> past this row, so that the memory reads of the next first pass overlap this row's
    /// arithmetic. <see cref="CgWorkspace.Prefetched"/> carries how far that went from one row to the next.
    /// </para>
    /// </remarks>
    public static double SolveConjugateGradient(
        FactorMatrix target, int row, FactorMatrix fixedSide, ReadOnlySpan<float> a0, ReadOnlySpan<int> indices, ReadOnlySpan<int> ahead,
        ReadOnlySpan<float> confidence, int steps, CgWorkspace workspace, bool loss, bool diagonalA0 = false)
    {
        var stride = target.Stride;
        ref var x = ref target.RowRef(row);
        if (indices.IsEmpty)
        {
            target.PaddedRow(row).Clear();
            return 0;
        }

        var n = indices.Length;
        var s = loss ? workspace.Dots.AsSpan(0, n) : default;
        var scratch = workspace.Scratch;
        ref var r = ref scratch[0];
        ref var p = ref scratch[stride];
        ref var q = ref scratch[2 * stride];
        ref var a = ref MemoryMarshal.GetReference(a0);
        var f = target.Factors;

        // With 64 factors the first pass also copies the row's fixed-side rows into one contiguous block, which the
        // product passes then stream in order (the hardware prefetchers follow it; scattered rows they cannot).
        var gather = n <= workspace.GatherRows ? workspace.Gather[..(n * 64)] : default;
        var prefetched = Math.Min(workspace.Prefetched, ahead.Length);
        Apply<ResidualPass>(ref a, f, stride, diagonalA0, fixedSide, indices, ahead, ref prefetched, confidence, ref x, ref r, s, gather);
        MemoryMarshal.CreateReadOnlySpan(ref r, stride).CopyTo(MemoryMarshal.CreateSpan(ref p, stride));
        var rs = VectorMath.Dot(ref r, ref r, stride);

        // The loss without another pass (see the remarks): f(x_0) + sum_j c_j p_j = sum_j c_j p_j (1 - y_j . x_0) - x_0 . r_0,
        // then each step lowers f by alpha r . r.
        var rowLoss = loss ? FitTerm(confidence, s) - VectorMath.Dot(ref x, ref r, stride) : 0;
        ref var yBase = ref fixedSide.RowRef(0);
        var lookahead = Math.Min(ahead.Length, n + LookaheadRows);
        for (var step = 0; step < steps && !(rs < CgTolerance); step++)
        {
            if (gather.IsEmpty)
            {
                // In place (a row too long to gather): prefetch along the row, as the first pass does.
                var along = 0;
                Apply<ProductPass>(ref a, f, stride, diagonalA0, fixedSide, indices, indices, ref along, confidence, ref p, ref q, default, default);
            }
            else
            {
                // The gathered rows are in the cache: prefetch the next rows' fixed-side rows while this pass computes.
                A0Product(ref a, f, stride, diagonalA0, ref p, ref q, 1f);
                Accumulate64<ProductPass, DenseRows>(new DenseRows(ref MemoryMarshal.GetReference(gather)), n, ref yBase, ahead, lookahead, ref prefetched, confidence, ref p, ref q, default, default);
            }

            var pq = VectorMath.Dot(ref p, ref q, stride);
            if (!(pq > 0))
            {
                // Only when A is singular (lambda = 0 with too few non-zeros): keep the last good x.
                break;
            }

            var alpha = rs / pq;
            VectorMath.Axpy(alpha, ref p, ref x, stride);
            rowLoss -= (double)alpha * rs;

            VectorMath.Axpy(-alpha, ref q, ref r, stride);
            var rsNew = VectorMath.Dot(ref r, ref r, stride);
            VectorMath.Xpby(ref r, rsNew / rs, ref p, stride);
            rs = rsNew;
        }

        workspace.Prefetched = Math.Max(0, prefetched - n);
        return rowLoss;
    }

    /// <summary>sum_j c_j p_j (1 - s_j), in double: c p = 1 + |v| where v &gt; 0, else 0.</summary>
    private static double FitTerm(ReadOnlySpan<float> confidence, ReadOnlySpan<float> dots)
    {
        var n = confidence.Length;
        ref var conf = ref MemoryMarshal.GetReference(confidence);
        ref var d = ref MemoryMarshal.GetReference(dots);
        var sum = Vector256<double>.Zero;
        var j = 0;
        for (; j + 8 <= n; j += 8)
        {
            var v = Vector256.LoadUnsafe(ref conf, (nuint)j);
            var cp = Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), Vector256.Abs(v) + Vector256<float>.One, Vector256<float>.Zero);
            var (lo, hi) = Vector256.Widen(cp);
            var (dlo, dhi) = Vector256.Widen(Vector256.LoadUnsafe(ref d, (nuint)j));
            sum += (lo * (Vector256<double>.One - dlo)) + (hi * (Vector256<double>.One - dhi));
        }

        var total = Vector256.Sum(sum);
        for (; j < n; j++)
        {
            var v = Unsafe.Add(ref conf, j);
            total += v > 0 ? (1.0 + Math.Abs(v)) * (1.0 - Unsafe.Add(ref d, j)) : 0;
        }

        return total;
    }

    /// <summary>
    /// dst = scale * A0 v, with A0 either a full stride x stride matrix, or (<paramref name="diagonal"/>) a stride-long
    /// diagonal: in the eigenbasis of the fixed side's Gram matrix (see AlsTrainer), A0 = diag(eigenvalues) + lambda I
    /// and the product costs f multiplications instead of f^2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void A0Product(ref float a0, int f, int stride, bool diagonal, ref float v, ref float dst, float scale)
    {
        if (diagonal)
        {
            VectorMath.DiagonalProduct(ref a0, stride, ref v, ref dst, scale);
        }
        else
        {
            VectorMath.SymmetricProduct(ref a0, f, stride, ref v, ref dst, scale);
        }
    }

    /// <summary>
    /// The exact solve of A x = b for one row, by Cholesky factorisation in double precision.
    /// <paramref name="work"/> holds stride * stride floats, <paramref name="solve"/> f * f + f doubles.
    /// </summary>
    public static void SolveExact(
        Span<float> destination, FactorMatrix fixedSide, ReadOnlySpan<float> a0, ReadOnlySpan<int> indices,
        ReadOnlySpan<float> confidence, Span<float> work, Span<double> solve)
    {
        var f = fixedSide.Factors;
        var stride = fixedSide.Stride;
        if (indices.IsEmpty)
        {
            destination.Clear();
            return;
        }

        // A = A0 + sum (c - 1) y y^T, in float with SIMD rank-1 updates; b = sum c p y.
        var a = work[..(stride * stride)];
        a0[..(stride * stride)].CopyTo(a);
        var b = solve.Slice(f * f, f);
        b.Clear();
        ref var aRef = ref MemoryMarshal.GetReference(a);
        for (var j = 0; j < indices.Length; j++)
        {
            var v = confidence[j];
            var cm1 = MathF.Abs(v);
            ref var y = ref fixedSide.RowRef(indices[j]);
            for (var k = 0; k < f; k++)
            {
                VectorMath.Axpy(cm1 * Unsafe.Add(ref y, k), ref y, ref Unsafe.Add(ref aRef, k * stride), stride);
            }

            if (v > 0)
            {
                var c = 1.0 + cm1;
                for (var k = 0; k < f; k++)
                {
                    b[k] += c * Unsafe.Add(ref y, k);
                }
            }
        }

        var m = solve[..(f * f)];
        for (var i = 0; i < f; i++)
        {
            for (var k = 0; k < f; k++)
            {
                m[(i * f) + k] = a[(i * stride) + k];
            }
        }

        Cholesky.SolveInPlace(m, f, b);
        for (var k = 0; k < f; k++)
        {
            destination[k] = (float)b[k];
        }
    }

    /// <summary>
    /// The contribution of item row <paramref name="row"/> of <paramref name="solved"/> to the loss, given the other
    /// side fixed: y^T A0 y + sum over the row's non-zeros of c (p - s)^2 - s^2 with s = x_u . y.
    /// <paramref name="scratch"/> holds at least stride floats.
    /// </summary>
    public static double LossTerm(
        FactorMatrix solved, int row, FactorMatrix fixedSide, ReadOnlySpan<float> a0, ReadOnlySpan<int> indices,
        ReadOnlySpan<float> confidence, Span<float> scratch)
    {
        var stride = solved.Stride;
        ref var y = ref solved.RowRef(row);
        ref var t = ref scratch[0];
        VectorMath.SymmetricProduct(ref MemoryMarshal.GetReference(a0), solved.Factors, stride, ref y, ref t, 1f);
        double loss = VectorMath.Dot(ref y, ref t, stride);
        for (var j = 0; j < indices.Length; j++)
        {
            var v = confidence[j];
            var s = (double)VectorMath.Dot(ref fixedSide.RowRef(indices[j]), ref y, stride);
            var c = 1.0 + Math.Abs(v);
            var e = (v > 0 ? 1.0 : 0.0) - s;
            loss += (c * e * e) - (s * s);
        }

        return loss;
    }

    /// <summary>
    /// dst = sign * A0 v + sum_j coefficient(v_j, y_j . v) y_j over the row's non-zeros (see <see cref="IRowPass"/>);
    /// the dots y_j . v go to <paramref name="dots"/> unless it is empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply<TPass>(
        ref float a0, int f, int stride, bool diagonalA0, FactorMatrix fixedSide, ReadOnlySpan<int> indices, ReadOnlySpan<int> ahead, ref int prefetched, ReadOnlySpan<float> confidence,
        ref float v, ref float dst, Span<float> dots, Span<float> gather)
        where TPass : struct, IRowPass
    {
        A0Product(ref a0, f, stride, diagonalA0, ref v, ref dst, TPass.A0Sign);
        if (Vector512.IsHardwareAccelerated)
        {
            if (stride == 64)
            {
                ref var yBase = ref fixedSide.RowRef(0);
                Accumulate64<TPass, IndexedRows>(new IndexedRows(ref yBase, ref MemoryMarshal.GetReference(indices)), indices.Length, ref yBase, ahead, -1, ref prefetched, confidence, ref v, ref dst, dots, gather);
            }
            else
            {
                AccumulateBlocked<TPass>(fixedSide, stride, indices, ahead, confidence, ref v, ref dst, dots);
            }

            return;
        }

        for (var j = 0; j < indices.Length; j++)
        {
            ref var y = ref fixedSide.RowRef(indices[j]);
            var dot = VectorMath.Dot(ref y, ref v, stride);
            if (!dots.IsEmpty)
            {
                dots[j] = dot;
            }

            VectorMath.Axpy(TPass.Coefficient(confidence[j], dot), ref y, ref dst, stride);
        }
    }

    /// <summary>Where a pass finds the fixed-side row of its j-th non-zero.</summary>
    private interface IRows
    {
        ref float Row(int j);
    }

    /// <summary>In place: row indices[j] of the fixed side (stride 64).</summary>
    private readonly ref struct IndexedRows(ref float yBase, ref int indices) : IRows
    {
        private readonly ref float _base = ref yBase;
        private readonly ref int _indices = ref indices;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref float Row(int j) => ref Unsafe.Add(ref _base, (nint)Unsafe.Add(ref _indices, j) * 64);
    }

    /// <summary>Gathered: the j-th of consecutive 64-float rows.</summary>
    private readonly ref struct DenseRows(ref float rows) : IRows
    {
        private readonly ref float _rows = ref rows;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref float Row(int j) => ref Unsafe.Add(ref _rows, (nint)j * 64);
    }

    /// <summary>
    /// The fused pass for 64 factors with AVX-512 (other strides: <see cref="AccumulateBlocked"/>): v and the
    /// accumulator stay in eight registers. Rows go in blocks of eight: the eight dot products are reduced together
    /// (one horizontal-add tree instead of eight horizontal sums, which would dominate the cost), the eight
    /// coefficients are computed in one Vector256, and each row is then added into the accumulator from L1. On the
    /// first pass over a row set (the residual, whose loads are the ones that miss the cache) the fixed-side rows
    /// <see cref="PrefetchDistance"/> non-zeros ahead in <paramref name="ahead"/> are prefetched, and each row is copied
    /// to <paramref name="gather"/> (unless empty) for the passes that follow.
    /// </summary>
    /// <param name="lookahead">
    /// -1: prefetch along <paramref name="ahead"/>, <see cref="PrefetchDistance"/> non-zeros ahead of the pass (a pass
    /// that reads rows in place). Otherwise the rows are in the cache, and each block prefetches
    /// <see cref="LookaheadPerBlock"/> more rows of <paramref name="ahead"/> (the rows after this one) up to index
    /// <paramref name="lookahead"/>.
    /// </param>
    /// <param name="prefetched">How many entries of <paramref name="ahead"/> have been prefetched; advanced.</param>
    private static void Accumulate64<TPass, TRows>(
        TRows rows, int n, ref float yBase, ReadOnlySpan<int> ahead, int lookahead, ref int prefetched, ReadOnlySpan<float> confidence, ref float v, ref float dst, Span<float> dots, Span<float> gather)
        where TPass : struct, IRowPass
        where TRows : struct, IRows, allows ref struct
    {
        var v0 = Vector512.LoadUnsafe(ref v, 0);
        var v1 = Vector512.LoadUnsafe(ref v, 16);
        var v2 = Vector512.LoadUnsafe(ref v, 32);
        var v3 = Vector512.LoadUnsafe(ref v, 48);
        var d0 = Vector512.LoadUnsafe(ref dst, 0);
        var d1 = Vector512.LoadUnsafe(ref dst, 16);
        var d2 = Vector512.LoadUnsafe(ref dst, 32);
        var d3 = Vector512.LoadUnsafe(ref dst, 48);
        ref var conf = ref MemoryMarshal.GetReference(confidence);
        ref var next = ref MemoryMarshal.GetReference(ahead);
        var aheadLength = ahead.Length;
        var storeDots = !dots.IsEmpty;
        ref var dotsOut = ref MemoryMarshal.GetReference(dots);
        var gathering = !gather.IsEmpty;
        ref var copy = ref MemoryMarshal.GetReference(gather);
        Span<float> coefficients = stackalloc float[8];
        ref var coef = ref MemoryMarshal.GetReference(coefficients);
        var pf = prefetched;
        var j = 0;
        for (; j + 8 <= n; j += 8)
        {
            if (lookahead < 0)
            {
                for (var until = Math.Min(j + PrefetchDistance + 8, aheadLength); pf < until; pf++)
                {
                    PrefetchRow(ref Unsafe.Add(ref yBase, (nint)Unsafe.Add(ref next, pf) * 64));
                }
            }
            else if (pf < lookahead)
            {
                for (var until = Math.Min(pf + LookaheadPerBlock, lookahead); pf < until; pf++)
                {
                    PrefetchRow(ref Unsafe.Add(ref yBase, (nint)Unsafe.Add(ref next, pf) * 64));
                }
            }

            var s0 = RowDot(ref rows.Row(j), v0, v1, v2, v3);
            var s1 = RowDot(ref rows.Row(j + 1), v0, v1, v2, v3);
            var s2 = RowDot(ref rows.Row(j + 2), v0, v1, v2, v3);
            var s3 = RowDot(ref rows.Row(j + 3), v0, v1, v2, v3);
            var s4 = RowDot(ref rows.Row(j + 4), v0, v1, v2, v3);
            var s5 = RowDot(ref rows.Row(j + 5), v0, v1, v2, v3);
            var s6 = RowDot(ref rows.Row(j + 6), v0, v1, v2, v3);
            var s7 = RowDot(ref rows.Row(j + 7), v0, v1, v2, v3);
            var blockDots = Reduce8(s0, s1, s2, s3, s4, s5, s6, s7);
            if (storeDots)
            {
                blockDots.StoreUnsafe(ref dotsOut, (nuint)j);
            }

            TPass.Coefficients(Vector256.LoadUnsafe(ref conf, (nuint)j), blockDots).StoreUnsafe(ref coef);

            // Even rows into d, odd rows into e: two independent FMA chains per column, so the chain's latency
            // (4 cycles per FMA) does not bound the block.
            var e0 = Vector512<float>.Zero;
            var e1 = Vector512<float>.Zero;
            var e2 = Vector512<float>.Zero;
            var e3 = Vector512<float>.Zero;
            for (var k = 0; k < 8; k += 2)
            {
                ref var y = ref rows.Row(j + k);
                var y0 = Vector512.LoadUnsafe(ref y, 0);
                var y1 = Vector512.LoadUnsafe(ref y, 16);
                var y2 = Vector512.LoadUnsafe(ref y, 32);
                var y3 = Vector512.LoadUnsafe(ref y, 48);
                var c = Vector512.Create(Unsafe.Add(ref coef, k));
                d0 = Vector512.FusedMultiplyAdd(c, y0, d0);
                d1 = Vector512.FusedMultiplyAdd(c, y1, d1);
                d2 = Vector512.FusedMultiplyAdd(c, y2, d2);
                d3 = Vector512.FusedMultiplyAdd(c, y3, d3);
                ref var z = ref rows.Row(j + k + 1);
                var z0 = Vector512.LoadUnsafe(ref z, 0);
                var z1 = Vector512.LoadUnsafe(ref z, 16);
                var z2 = Vector512.LoadUnsafe(ref z, 32);
                var z3 = Vector512.LoadUnsafe(ref z, 48);
                var b = Vector512.Create(Unsafe.Add(ref coef, k + 1));
                e0 = Vector512.FusedMultiplyAdd(b, z0, e0);
                e1 = Vector512.FusedMultiplyAdd(b, z1, e1);
                e2 = Vector512.FusedMultiplyAdd(b, z2, e2);
                e3 = Vector512.FusedMultiplyAdd(b, z3, e3);
                if (gathering)
                {
                    ref var to = ref Unsafe.Add(ref copy, (nint)(j + k) * 64);
                    y0.StoreUnsafe(ref to, 0);
                    y1.StoreUnsafe(ref to, 16);
                    y2.StoreUnsafe(ref to, 32);
                    y3.StoreUnsafe(ref to, 48);
                    z0.StoreUnsafe(ref to, 64);
                    z1.StoreUnsafe(ref to, 80);
                    z2.StoreUnsafe(ref to, 96);
                    z3.StoreUnsafe(ref to, 112);
                }
            }

            d0 += e0;
            d1 += e1;
            d2 += e2;
            d3 += e3;
        }

        for (; j < n; j++)
        {
            if (lookahead < 0)
            {
                for (var until = Math.Min(j + PrefetchDistance + 1, aheadLength); pf < until; pf++)
                {
                    PrefetchRow(ref Unsafe.Add(ref yBase, (nint)Unsafe.Add(ref next, pf) * 64));
                }
            }

            ref var y = ref rows.Row(j);
            var y0 = Vector512.LoadUnsafe(ref y, 0);
            var y1 = Vector512.LoadUnsafe(ref y, 16);
            var y2 = Vector512.LoadUnsafe(ref y, 32);
            var y3 = Vector512.LoadUnsafe(ref y, 48);
            var dot = VectorMath.HorizontalSum(Vector512.FusedMultiplyAdd(y1, v1, y0 * v0) + Vector512.FusedMultiplyAdd(y3, v3, y2 * v2));
            if (storeDots)
            {
                Unsafe.Add(ref dotsOut, j) = dot;
            }

            var c = Vector512.Create(TPass.Coefficient(Unsafe.Add(ref conf, j), dot));
            d0 = Vector512.FusedMultiplyAdd(c, y0, d0);
            d1 = Vector512.FusedMultiplyAdd(c, y1, d1);
            d2 = Vector512.FusedMultiplyAdd(c, y2, d2);
            d3 = Vector512.FusedMultiplyAdd(c, y3, d3);
            if (gathering)
            {
                ref var to = ref Unsafe.Add(ref copy, (nint)j * 64);
                y0.StoreUnsafe(ref to, 0);
                y1.StoreUnsafe(ref to, 16);
                y2.StoreUnsafe(ref to, 32);
                y3.StoreUnsafe(ref to, 48);
            }
        }

        d0.StoreUnsafe(ref dst, 0);
        d1.StoreUnsafe(ref dst, 16);
        d2.StoreUnsafe(ref dst, 32);
        d3.StoreUnsafe(ref dst, 48);
        prefetched = pf;
    }

    /// <summary>
    /// The same blocked pass for any stride (a multiple of 16): eight dot products reduced together, then the eight
    /// rows added into the accumulator column by column (the accumulator lives in L1, loaded and stored once per block).
    /// </summary>
    private static void AccumulateBlocked<TPass>(FactorMatrix fixedSide, int stride, ReadOnlySpan<int> indices, ReadOnlySpan<int> ahead, ReadOnlySpan<float> confidence, ref float v, ref float dst, Span<float> dots)
        where TPass : struct, IRowPass
    {
        ref var yBase = ref fixedSide.RowRef(0);
        ref var idx = ref MemoryMarshal.GetReference(indices);
        ref var conf = ref MemoryMarshal.GetReference(confidence);
        var n = indices.Length;
        ref var next = ref MemoryMarshal.GetReference(ahead);
        var aheadLength = ahead.Length;
        var storeDots = !dots.IsEmpty;
        ref var dotsOut = ref MemoryMarshal.GetReference(dots);
        Span<float> coefficients = stackalloc float[8];
        ref var coef = ref MemoryMarshal.GetReference(coefficients);
        var j = 0;
        for (; j + 8 <= n; j += 8)
        {
            if (TPass.Prefetch && j + PrefetchDistance + 8 <= aheadLength)
            {
                for (var k = PrefetchDistance; k < PrefetchDistance + 8; k++)
                {
                    PrefetchRow(ref RowAt(ref yBase, ref next, j + k, stride), stride);
                }
            }

            var s0 = RowDot(ref RowAt(ref yBase, ref idx, j, stride), ref v, stride);
            var s1 = RowDot(ref RowAt(ref yBase, ref idx, j + 1, stride), ref v, stride);
            var s2 = RowDot(ref RowAt(ref yBase, ref idx, j + 2, stride), ref v, stride);
            var s3 = RowDot(ref RowAt(ref yBase, ref idx, j + 3, stride), ref v, stride);
            var s4 = RowDot(ref RowAt(ref yBase, ref idx, j + 4, stride), ref v, stride);
            var s5 = RowDot(ref RowAt(ref yBase, ref idx, j + 5, stride), ref v, stride);
            var s6 = RowDot(ref RowAt(ref yBase, ref idx, j + 6, stride), ref v, stride);
            var s7 = RowDot(ref RowAt(ref yBase, ref idx, j + 7, stride), ref v, stride);
            var blockDots = Reduce8(s0, s1, s2, s3, s4, s5, s6, s7);
            if (storeDots)
            {
                blockDots.StoreUnsafe(ref dotsOut, (nuint)j);
            }

            TPass.Coefficients(Vector256.LoadUnsafe(ref conf, (nuint)j), blockDots).StoreUnsafe(ref coef);

            // dst += sum_k c_k y_k, one column vector at a time, so that dst is loaded and stored once per block
            // (eight separate axpys would chain through store-to-load forwarding).
            var c0 = Vector512.Create(coef);
            var c1 = Vector512.Create(Unsafe.Add(ref coef, 1));
            var c2 = Vector512.Create(Unsafe.Add(ref coef, 2));
            var c3 = Vector512.Create(Unsafe.Add(ref coef, 3));
            var c4 = Vector512.Create(Unsafe.Add(ref coef, 4));
            var c5 = Vector512.Create(Unsafe.Add(ref coef, 5));
            var c6 = Vector512.Create(Unsafe.Add(ref coef, 6));
            var c7 = Vector512.Create(Unsafe.Add(ref coef, 7));
            ref var y0 = ref RowAt(ref yBase, ref idx, j, stride);
            ref var y1 = ref RowAt(ref yBase, ref idx, j + 1, stride);
            ref var y2 = ref RowAt(ref yBase, ref idx, j + 2, stride);
            ref var y3 = ref RowAt(ref yBase, ref idx, j + 3, stride);
            ref var y4 = ref RowAt(ref yBase, ref idx, j + 4, stride);
            ref var y5 = ref RowAt(ref yBase, ref idx, j + 5, stride);
            ref var y6 = ref RowAt(ref yBase, ref idx, j + 6, stride);
            ref var y7 = ref RowAt(ref yBase, ref idx, j + 7, stride);
            for (nuint t = 0; t < (nuint)stride; t += 16)
            {
                var a = Vector512.FusedMultiplyAdd(c0, Vector512.LoadUnsafe(ref y0, t), Vector512.LoadUnsafe(ref dst, t));
                var b = c4 * Vector512.LoadUnsafe(ref y4, t);
                a = Vector512.FusedMultiplyAdd(c1, Vector512.LoadUnsafe(ref y1, t), a);
                b = Vector512.FusedMultiplyAdd(c5, Vector512.LoadUnsafe(ref y5, t), b);
                a = Vector512.FusedMultiplyAdd(c2, Vector512.LoadUnsafe(ref y2, t), a);
                b = Vector512.FusedMultiplyAdd(c6, Vector512.LoadUnsafe(ref y6, t), b);
                a = Vector512.FusedMultiplyAdd(c3, Vector512.LoadUnsafe(ref y3, t), a);
                b = Vector512.FusedMultiplyAdd(c7, Vector512.LoadUnsafe(ref y7, t), b);
                (a + b).StoreUnsafe(ref dst, t);
            }
        }

        for (; j < n; j++)
        {
            if (TPass.Prefetch && j + PrefetchDistance < aheadLength)
            {
                PrefetchRow(ref RowAt(ref yBase, ref next, j + PrefetchDistance, stride), stride);
            }

            ref var y = ref RowAt(ref yBase, ref idx, j, stride);
            var dot = VectorMath.HorizontalSum(RowDot(ref y, ref v, stride));
            if (storeDots)
            {
                Unsafe.Add(ref dotsOut, j) = dot;
            }

            VectorMath.Axpy(TPass.Coefficient(Unsafe.Add(ref conf, j), dot), ref y, ref dst, stride);
        }
    }

    /// <summary>
    /// g += M^T M over <paramref name="rows"/> consecutive rows of M starting at <paramref name="m"/> (row stride
    /// <paramref name="stride"/>, a multiple of 16), upper block triangle only: row k of g gets the columns from
    /// 16 * floor(k / 16) on (its diagonal block, both triangles of it, and everything right of it). The caller mirrors
    /// the rest. Needs AVX-512.
    /// </summary>
    /// <remarks>
    /// g[k, j] = sum_r m[r, k] m[r, j]. A tile is 8 rows of g (k0 .. k0 + 7) by 32 columns (two Vector512): 16
    /// accumulators in registers, and per row of M two loads, eight broadcasts and 16 FMAs. Rows go in blocks of 64
    /// (16 KB at 64 factors, so a block stays in L1 while every tile reads it), and the tiles are added into g once
    /// per block.
    /// </remarks>
    public static void AccumulateGramUpper(ref float m, int rows, int factors, int stride, ref float g)
    {
        const int Block = 64;
        for (var start = 0; start < rows; start += Block)
        {
            var count = Math.Min(Block, rows - start);
            ref var block = ref Unsafe.Add(ref m, (nint)start * stride);
            for (var k0 = 0; k0 < factors; k0 += 8)
            {
                for (var column = k0 / 16 * 16; column < stride; column += 32)
                {
                    if (column + 16 < stride)
                    {
                        GramTile8x2(ref block, count, stride, k0, column, ref g);
                    }
                    else
                    {
                        GramTile8x1(ref block, count, stride, k0, column, ref g);
                    }
                }
            }
        }
    }

    private static void GramTile8x2(ref float m, int rows, int stride, int k0, int column, ref float g)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        ref var row = ref m;
        for (var r = 0; r < rows; r++)
        {
            var y0 = Vector512.LoadUnsafe(ref row, (nuint)column);
            var y1 = Vector512.LoadUnsafe(ref row, (nuint)(column + 16));
            ref var k = ref Unsafe.Add(ref row, k0);
            var c = Vector512.Create(k);
            a0 = Vector512.FusedMultiplyAdd(c, y0, a0);
            b0 = Vector512.FusedMultiplyAdd(c, y1, b0);
            c = Vector512.Create(Unsafe.Add(ref k, 1));
            a1 = Vector512.FusedMultiplyAdd(c, y0, a1);
            b1 = Vector512.FusedMultiplyAdd(c, y1, b1);
            c = Vector512.Create(Unsafe.Add(ref k, 2));
            a2 = Vector512.FusedMultiplyAdd(c, y0, a2);
            b2 = Vector512.FusedMultiplyAdd(c, y1, b2);
            c = Vector512.Create(Unsafe.Add(ref k, 3));
            a3 = Vector512.FusedMultiplyAdd(c, y0, a3);
            b3 = Vector512.FusedMultiplyAdd(c, y1, b3);
            c = Vector512.Create(Unsafe.Add(ref k, 4));
            a4 = Vector512.FusedMultiplyAdd(c, y0, a4);
            b4 = Vector512.FusedMultiplyAdd(c, y1, b4);
            c = Vector512.Create(Unsafe.Add(ref k, 5));
            a5 = Vector512.FusedMultiplyAdd(c, y0, a5);
            b5 = Vector512.FusedMultiplyAdd(c, y1, b5);
            c = Vector512.Create(Unsafe.Add(ref k, 6));
            a6 = Vector512.FusedMultiplyAdd(c, y0, a6);
            b6 = Vector512.FusedMultiplyAdd(c, y1, b6);
            c = Vector512.Create(Unsafe.Add(ref k, 7));
            a7 = Vector512.FusedMultiplyAdd(c, y0, a7);
            b7 = Vector512.FusedMultiplyAdd(c, y1, b7);
            row = ref Unsafe.Add(ref row, stride);
        }

        AddTo(ref g, stride, k0, column, a0, a1, a2, a3, a4, a5, a6, a7);
        AddTo(ref g, stride, k0, column + 16, b0, b1, b2, b3, b4, b5, b6, b7);
    }

    private static void GramTile8x1(ref float m, int rows, int stride, int k0, int column, ref float g)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        ref var row = ref m;
        for (var r = 0; r < rows; r++)
        {
            var y0 = Vector512.LoadUnsafe(ref row, (nuint)column);
            ref var k = ref Unsafe.Add(ref row, k0);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(k), y0, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 1)), y0, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 2)), y0, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 3)), y0, a3);
            a4 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 4)), y0, a4);
            a5 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 5)), y0, a5);
            a6 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 6)), y0, a6);
            a7 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 7)), y0, a7);
            row = ref Unsafe.Add(ref row, stride);
        }

        AddTo(ref g, stride, k0, column, a0, a1, a2, a3, a4, a5, a6, a7);
    }

    /// <summary>g[k0 + t, column .. column + 16) += at for t = 0..7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(
        ref float g, int stride, int k0, int column,
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7)
    {
        ref var at = ref Unsafe.Add(ref g, (k0 * stride) + column);
        (Vector512.LoadUnsafe(ref at) + a0).StoreUnsafe(ref at);
        at = ref Unsafe.Add(ref at, stride);
        (Vector512.LoadUnsafe(ref at) + a1).StoreUnsafe(ref at);
        at = ref Unsafe.Add(ref at, stride);
        (Vector512.LoadUnsafe(ref at) + a2).StoreUnsafe(ref at);
        at = ref Unsafe.Add(ref at, stride);
        (Vector512.LoadUnsafe(ref at) + a3).StoreUnsafe(ref at);
        at = ref Unsafe.Add(ref at, stride);
        (Vector512.LoadUnsafe(ref at) + a4).StoreUnsafe(ref at);
        at = ref Unsafe.Add(ref at, stride);
        (Vector512.LoadUnsafe(ref at) + a5).StoreUnsafe(ref at);
        at = ref Unsafe.Add(ref at, stride);
        (Vector512.LoadUnsafe(ref at) + a6).StoreUnsafe(ref at);
        at = ref Unsafe.Add(ref at, stride);
        (Vector512.LoadUnsafe(ref at) + a7).StoreUnsafe(ref at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float RowAt(ref float yBase, ref int idx, int j, int stride) => ref Unsafe.Add(ref yBase, (nint)Unsafe.Add(ref idx, j) * stride);

    /// <summary>The lane-wise products of a row with v, folded to one Vector512 (not yet summed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RowDot(ref float y, ref float v, int stride)
    {
        var a = Vector512.LoadUnsafe(ref y) * Vector512.LoadUnsafe(ref v);
        var b = Vector512<float>.Zero;
        var i = 16;
        for (; i + 16 < stride; i += 32)
        {
            a = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref y, (nuint)i), Vector512.LoadUnsafe(ref v, (nuint)i), a);
            b = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref y, (nuint)(i + 16)), Vector512.LoadUnsafe(ref v, (nuint)(i + 16)), b);
        }

        if (i < stride)
        {
            a = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref y, (nuint)i), Vector512.LoadUnsafe(ref v, (nuint)i), a);
        }

        return a + b;
    }


    /// <summary>The lane-wise products of a 64-float row with v, folded to one Vector512 (not yet summed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RowDot(ref float y, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3) =>
        Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref y, 16), v1, Vector512.LoadUnsafe(ref y, 0) * v0) +
        Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref y, 48), v3, Vector512.LoadUnsafe(ref y, 32) * v2);

    /// <summary>The horizontal sums of eight vectors, as one Vector256 (lane k = sum of sk), by a horizontal-add tree.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reduce8(
        Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3,
        Vector512<float> s4, Vector512<float> s5, Vector512<float> s6, Vector512<float> s7)
    {
        var h0 = s0.GetLower() + s0.GetUpper();
        var h1 = s1.GetLower() + s1.GetUpper();
        var h2 = s2.GetLower() + s2.GetUpper();
        var h3 = s3.GetLower() + s3.GetUpper();
        var h4 = s4.GetLower() + s4.GetUpper();
        var h5 = s5.GetLower() + s5.GetUpper();
        var h6 = s6.GetLower() + s6.GetUpper();
        var h7 = s7.GetLower() + s7.GetUpper();
        var e = Avx.HorizontalAdd(Avx.HorizontalAdd(h0, h1), Avx.HorizontalAdd(h2, h3));
        var g = Avx.HorizontalAdd(Avx.HorizontalAdd(h4, h5), Avx.HorizontalAdd(h6, h7));
        return Avx.Permute2x128(e, g, 0x20) + Avx.Permute2x128(e, g, 0x31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRow(ref float row)
    {
        var p = (byte*)Unsafe.AsPointer(ref row);
        Sse.Prefetch0(p);
        Sse.Prefetch0(p + 64);
        Sse.Prefetch0(p + 128);
        Sse.Prefetch0(p + 192);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRow(ref float row, int stride)
    {
        var p = (byte*)Unsafe.AsPointer(ref row);
        for (var offset = 0; offset < stride * sizeof(float); offset += 64)
        {
            Sse.Prefetch0(p + offset);
        }
    }
}

/// <summary>Cholesky factorisation and solve of a small symmetric positive-definite system, in double precision.</summary>
internal static class Cholesky
{
    /// <summary>
    /// Solves A x = b for an n x n row-major symmetric positive-definite A (overwritten by its factor L) and b
    /// (overwritten by x).
    /// </summary>
    /// <exception cref="InvalidOperationException">A is not positive definite (no regularization and too little data).</exception>
    public static void SolveInPlace(Span<double> a, int n, Span<double> b)
    {
        for (var j = 0; j < n; j++)
        {
            var d = a[(j * n) + j];
            for (var k = 0; k < j; k++)
            {
                d -= a[(j * n) + k] * a[(j * n) + k];
            }

            if (!(d > 0))
            {
                throw new InvalidOperationException(
                    "The least-squares system is not positive definite; increase the regularization.");
            }

            var ljj = Math.Sqrt(d);
            a[(j * n) + j] = ljj;
            for (var i = j + 1; i < n; i++)
            {
                var s = a[(i * n) + j];
                for (var k = 0; k < j; k++)
                {
                    s -= a[(i * n) + k] * a[(j * n) + k];
                }

                a[(i * n) + j] = s / ljj;
            }
        }

        // L z = b, then L^T x = z.
        for (var i = 0; i < n; i++)
        {
            var s = b[i];
            for (var k = 0; k < i; k++)
            {
                s -= a[(i * n) + k] * b[k];
            }

            b[i] = s / a[(i * n) + i];
        }

        for (var i = n - 1; i >= 0; i--)
        {
            var s = b[i];
            for (var k = i + 1; k < n; k++)
            {
                s -= a[(k * n) + i] * b[k];
            }

            b[i] = s / a[(i * n) + i];
        }
    }
}
