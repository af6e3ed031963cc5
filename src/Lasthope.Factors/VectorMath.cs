using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lasthope.Factors;

/// <summary>
/// Small dense kernels on padded factor rows (length a multiple of <see cref="FactorMatrix.Alignment"/>): dot
/// products, axpy, and the symmetric matrix-vector product. Vector512 where the hardware has it, else Vector256
/// (every x64 CPU .NET 10 runs on has at least Vector128, and 16 floats are a whole number of each width).
/// Whole-span maths that is not on a per-row hot path goes through <c>TensorPrimitives</c> instead.
/// </summary>
internal static class VectorMath
{
    /// <summary>Sum of a[i] * b[i] for i in [0, n); n is a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ref float a, ref float b, int n)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var s0 = Vector512<float>.Zero;
            var s1 = Vector512<float>.Zero;
            var i = 0;
            for (; i + 32 <= n; i += 32)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)(i + 16)), Vector512.LoadUnsafe(ref b, (nuint)(i + 16)), s1);
            }

            if (i < n)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), s0);
            }

            return HorizontalSum(s0 + s1);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var s0 = Vector256<float>.Zero;
            var s1 = Vector256<float>.Zero;
            for (var i = 0; i < n; i += 16)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(i + 8)), Vector256.LoadUnsafe(ref b, (nuint)(i + 8)), s1);
            }

            return Vector256.Sum(s0 + s1);
        }

        var t0 = Vector128<float>.Zero;
        var t1 = Vector128<float>.Zero;
        for (var i = 0; i < n; i += 8)
        {
            t0 += Vector128.LoadUnsafe(ref a, (nuint)i) * Vector128.LoadUnsafe(ref b, (nuint)i);
            t1 += Vector128.LoadUnsafe(ref a, (nuint)(i + 4)) * Vector128.LoadUnsafe(ref b, (nuint)(i + 4));
        }

        return Vector128.Sum(t0 + t1);
    }

    /// <summary>
    /// The sum of a vector's lanes by halving (512 to 256 to 128 bits): Vector512.Sum compiles to four separate
    /// 128-bit reductions, three times the instructions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalSum(Vector512<float> v)
    {
        var h = v.GetLower() + v.GetUpper();
        return Vector128.Sum(h.GetLower() + h.GetUpper());
    }

    /// <summary>y += alpha * x over [0, n); n is a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float alpha, ref float x, ref float y, int n)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var a = Vector512.Create(alpha);
            for (var i = 0; i < n; i += 16)
            {
                Vector512.FusedMultiplyAdd(a, Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create(alpha);
            for (var i = 0; i < n; i += 8)
            {
                Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
            }
        }
        else
        {
            var a = Vector128.Create(alpha);
            for (var i = 0; i < n; i += 4)
            {
                ((a * Vector128.LoadUnsafe(ref x, (nuint)i)) + Vector128.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
            }
        }
    }

    /// <summary>y = x + beta * y over [0, n) (the CG direction update p = r + beta p).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Xpby(ref float x, float beta, ref float y, int n)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var b = Vector512.Create(beta);
            for (var i = 0; i < n; i += 16)
            {
                Vector512.FusedMultiplyAdd(b, Vector512.LoadUnsafe(ref y, (nuint)i), Vector512.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
            }
        }
        else
        {
            var b = Vector256.Create(beta);
            for (var i = 0; i < n; i += 8)
            {
                Vector256.FusedMultiplyAdd(b, Vector256.LoadUnsafe(ref y, (nuint)i), Vector256.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
            }
        }
    }

    /// <summary>y = scale * (d ⊙ x) over [0, n), the product with a diagonal matrix; n is a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void DiagonalProduct(ref float d, int n, ref float x, ref float y, float scale)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(scale);
            for (var i = 0; i < n; i += 16)
            {
                (s * Vector512.LoadUnsafe(ref d, (nuint)i) * Vector512.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
            }
        }
        else
        {
            var s = Vector256.Create(scale);
            for (var i = 0; i < n; i += 8)
            {
                (s * Vector256.LoadUnsafe(ref d, (nuint)i) * Vector256.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
            }
        }
    }

    /// <summary>
    /// y = scale * A x for a symmetric stride x stride matrix A whose rows past <paramref name="factors"/> are zero:
    /// computed as the sum over k of x[k] * A[k, :], which needs no horizontal sums.
    /// </summary>
    public static void SymmetricProduct(ref float a, int factors, int stride, ref float x, ref float y, float scale)
    {
        if (Vector512.IsHardwareAccelerated && stride == 64)
        {
            // The common case, with the four output vectors in registers and two interleaved chains per vector.
            Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default;
            Vector512<float> o0 = default, o1 = default, o2 = default, o3 = default;
            var k = 0;
            for (; k + 1 < factors; k += 2)
            {
                ref var row = ref Unsafe.Add(ref a, k * 64);
                var xk = Vector512.Create(Unsafe.Add(ref x, k));
                e0 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref row, 0), e0);
                e1 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref row, 16), e1);
                e2 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref row, 32), e2);
                e3 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref row, 48), e3);
                ref var next = ref Unsafe.Add(ref row, 64);
                var xn = Vector512.Create(Unsafe.Add(ref x, k + 1));
                o0 = Vector512.FusedMultiplyAdd(xn, Vector512.LoadUnsafe(ref next, 0), o0);
                o1 = Vector512.FusedMultiplyAdd(xn, Vector512.LoadUnsafe(ref next, 16), o1);
                o2 = Vector512.FusedMultiplyAdd(xn, Vector512.LoadUnsafe(ref next, 32), o2);
                o3 = Vector512.FusedMultiplyAdd(xn, Vector512.LoadUnsafe(ref next, 48), o3);
            }

            if (k < factors)
            {
                ref var row = ref Unsafe.Add(ref a, k * 64);
                var xk = Vector512.Create(Unsafe.Add(ref x, k));
                e0 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref row, 0), e0);
                e1 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref row, 16), e1);
                e2 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref row, 32), e2);
                e3 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref row, 48), e3);
            }

            var s = Vector512.Create(scale);
            ((e0 + o0) * s).StoreUnsafe(ref y, 0);
            ((e1 + o1) * s).StoreUnsafe(ref y, 16);
            ((e2 + o2) * s).StoreUnsafe(ref y, 32);
            ((e3 + o3) * s).StoreUnsafe(ref y, 48);
            return;
        }

        var span = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref y, stride);
        span.Clear();
        for (var k = 0; k < factors; k++)
        {
            Axpy(scale * Unsafe.Add(ref x, k), ref Unsafe.Add(ref a, k * stride), ref y, stride);
        }
    }
}

/// <summary>
/// The eigendecomposition A = V diag(w) V^T of a small symmetric matrix by the cyclic Jacobi method (Golub and Van
/// Loan, "Matrix Computations", 4th ed., section 8.5.2; the rotation of Numerical Recipes, 3rd ed., section 11.1), in
/// double precision. At f = 64 a decomposition takes well under a millisecond: it runs once per half-step.
/// </summary>
internal static class SymmetricEigen
{
    /// <summary>
    /// Decomposes the n x n row-major symmetric <paramref name="a"/> (destroyed: its diagonal ends as the eigenvalues)
    /// into <paramref name="vectors"/> (n x n row-major, column j the eigenvector of eigenvalue j) and
    /// <paramref name="values"/>.
    /// </summary>
    public static void Decompose(Span<double> a, int n, Span<double> vectors, Span<double> values)
    {
        vectors[..(n * n)].Clear();
        for (var k = 0; k < n; k++)
        {
            vectors[(k * n) + k] = 1;
        }

        for (var sweep = 0; sweep < 64; sweep++)
        {
            double off = 0, diagonal = 0;
            for (var p = 0; p < n; p++)
            {
                diagonal += a[(p * n) + p] * a[(p * n) + p];
                for (var q = p + 1; q < n; q++)
                {
                    off += a[(p * n) + q] * a[(p * n) + q];
                }
            }

            if (!(off > 1e-30 * diagonal))
            {
                break;
            }

            for (var p = 0; p < n - 1; p++)
            {
                for (var q = p + 1; q < n; q++)
                {
                    var apq = a[(p * n) + q];
                    if (apq == 0)
                    {
                        continue;
                    }

                    // The rotation J (J_pp = J_qq = c, J_pq = s, J_qp = -s) with (J^T A J)_pq = 0.
                    var theta = (a[(q * n) + q] - a[(p * n) + p]) / (2 * apq);
                    var t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    if (theta == 0)
                    {
                        t = 1;
                    }

                    var c = 1 / Math.Sqrt((t * t) + 1);
                    var s = t * c;
                    for (var k = 0; k < n; k++)
                    {
                        var akp = a[(k * n) + p];
                        var akq = a[(k * n) + q];
                        a[(k * n) + p] = (c * akp) - (s * akq);
                        a[(k * n) + q] = (s * akp) + (c * akq);
                    }

                    for (var k = 0; k < n; k++)
                    {
                        var apk = a[(p * n) + k];
                        var aqk = a[(q * n) + k];
                        a[(p * n) + k] = (c * apk) - (s * aqk);
                        a[(q * n) + k] = (s * apk) + (c * aqk);
                    }

                    for (var k = 0; k < n; k++)
                    {
                        var vkp = vectors[(k * n) + p];
                        var vkq = vectors[(k * n) + q];
                        vectors[(k * n) + p] = (c * vkp) - (s * vkq);
                        vectors[(k * n) + q] = (s * vkp) + (c * vkq);
                    }
                }
            }
        }

        for (var k = 0; k < n; k++)
        {
            values[k] = a[(k * n) + k];
        }
    }
}
