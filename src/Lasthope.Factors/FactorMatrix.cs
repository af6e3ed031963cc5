using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Lasthope.Factors;

/// <summary>
/// A dense row-major float32 matrix of factor vectors (one row per user or item) whose rows start on 64-byte
/// boundaries and are padded with zeros to <see cref="Stride"/>, a multiple of 16 floats, so that every kernel works
/// on whole Vector512/Vector256 registers without a scalar tail and without loads that split cache lines.
/// </summary>
/// <remarks>
/// The storage is an array on the pinned object heap with a few floats of slack, and the first row begins at the
/// first 64-byte-aligned element: the array never moves, so the alignment holds for the life of the matrix, and the
/// garbage collector still owns the memory (no disposal for a model that requests may still be reading). Padding
/// columns are zero and every kernel keeps them zero.
/// </remarks>
internal sealed class FactorMatrix
{
    /// <summary>The row stride is a multiple of this many floats (one Vector512).</summary>
    public const int Alignment = 16;

    private readonly float[] _data;
    private readonly int _offset;

    public FactorMatrix(int rows, int factors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(factors, 1);
        Rows = rows;
        Factors = factors;
        Stride = PaddedLength(factors);
        var length = ((long)rows * Stride) + Alignment;
        if (length > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows of {factors} factors exceed the largest array .NET can allocate.");
        }

        // Uninitialised, so that the huge-page advice comes before the first write faults the pages in; then zeroed.
        _data = GC.AllocateUninitializedArray<float>((int)length, pinned: true);
        unsafe
        {
            var address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data));
            _offset = (int)((64 - (address % 64)) % 64) / sizeof(float);
            HugePages.Advise((nint)address, length * sizeof(float));
        }

        _data.AsSpan().Clear();
    }

    public int Rows { get; }

    public int Factors { get; }

    public int Stride { get; }

    /// <summary>The smallest multiple of <see cref="Alignment"/> that holds <paramref name="factors"/> floats.</summary>
    public static int PaddedLength(int factors) => (factors + Alignment - 1) / Alignment * Alignment;

    /// <summary>The row's <see cref="Factors"/> values, without padding.</summary>
    public Span<float> Row(int row) => _data.AsSpan(_offset + (row * Stride), Factors);

    /// <summary>The row including its zero padding.</summary>
    public Span<float> PaddedRow(int row) => _data.AsSpan(_offset + (row * Stride), Stride);

    /// <summary>All rows, padded, as one span.</summary>
    public Span<float> All => _data.AsSpan(_offset, Rows * Stride);

    /// <summary>Reference to the first element of a row (for kernels; no bounds check).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref float RowRef(int row) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_data), _offset + ((nint)row * Stride));

    /// <summary>A deep copy.</summary>
    public FactorMatrix Clone()
    {
        var copy = new FactorMatrix(Rows, Factors);
        All.CopyTo(copy.All);
        return copy;
    }
}
