namespace Lasthope.Factors;

/// <summary>
/// A sparse matrix in compressed sparse row form: row r's column indices are
/// <c>Indices[RowStart[r] .. RowStart[r + 1]]</c>, strictly increasing, with the matching <c>Values</c>.
/// Immutable; at most <see cref="int.MaxValue"/> non-zeros.
/// </summary>
public sealed class CsrMatrix
{
    private readonly int[] _rowStart;
    private readonly int[] _indices;
    private readonly float[] _values;

    internal CsrMatrix(int rows, int columns, int[] rowStart, int[] indices, float[] values)
    {
        RowCount = rows;
        ColumnCount = columns;
        _rowStart = rowStart;
        _indices = indices;
        _values = values;
    }

    public int RowCount { get; }

    public int ColumnCount { get; }

    public int NonZeros => _rowStart[RowCount];

    /// <summary>RowCount + 1 offsets into <see cref="Indices"/> and <see cref="Values"/>.</summary>
    public ReadOnlySpan<int> RowStart => _rowStart;

    public ReadOnlySpan<int> Indices => _indices;

    public ReadOnlySpan<float> Values => _values;

    /// <summary>The sorted column indices of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<int> RowIndices(int row) => _indices.AsSpan(_rowStart[row], _rowStart[row + 1] - _rowStart[row]);

    /// <summary>The values of row <paramref name="row"/>, aligned with <see cref="RowIndices"/>.</summary>
    public ReadOnlySpan<float> RowValues(int row) => _values.AsSpan(_rowStart[row], _rowStart[row + 1] - _rowStart[row]);

    /// <summary>The number of non-zeros in row <paramref name="row"/>.</summary>
    public int RowLength(int row) => _rowStart[row + 1] - _rowStart[row];

    internal int[] RowStartArray => _rowStart;

    internal int[] IndicesArray => _indices;

    internal float[] ValuesArray => _values;

    /// <summary>The transpose, also in CSR form (so the columns of this matrix become rows), by a counting sort.</summary>
    public CsrMatrix Transpose()
    {
        var counts = new int[ColumnCount + 1];
        foreach (var c in _indices)
        {
            counts[c + 1]++;
        }

        for (var c = 0; c < ColumnCount; c++)
        {
            counts[c + 1] += counts[c];
        }

        var rowStart = (int[])counts.Clone();
        var next = counts;
        var indices = new int[_indices.Length];
        var values = new float[_values.Length];
        for (var r = 0; r < RowCount; r++)
        {
            for (var k = _rowStart[r]; k < _rowStart[r + 1]; k++)
            {
                var slot = next[_indices[k]]++;
                indices[slot] = r;
                values[slot] = _values[k];
            }
        }

        return new CsrMatrix(ColumnCount, RowCount, rowStart, indices, values);
    }

    /// <summary>
    /// Builds a CSR matrix from coordinates. Entries with the same (row, column) are summed; entries whose sum is 0
    /// are dropped (a zero is no interaction).
    /// </summary>
    public static CsrMatrix FromCoordinates(int rows, int columns, ReadOnlySpan<int> rowOf, ReadOnlySpan<int> columnOf, ReadOnlySpan<float> values)
    {
        if (rowOf.Length != columnOf.Length || rowOf.Length != values.Length)
        {
            throw new ArgumentException($"Coordinate arrays differ in length: {rowOf.Length} rows, {columnOf.Length} columns, {values.Length} values.");
        }

        var counts = new int[rows + 1];
        for (var k = 0; k < rowOf.Length; k++)
        {
            var r = rowOf[k];
            if ((uint)r >= (uint)rows)
            {
                throw new ArgumentOutOfRangeException(nameof(rowOf), $"Row {r} at entry {k} is outside [0, {rows}).");
            }

            if ((uint)columnOf[k] >= (uint)columns)
            {
                throw new ArgumentOutOfRangeException(nameof(columnOf), $"Column {columnOf[k]} at entry {k} is outside [0, {columns}).");
            }

            counts[r + 1]++;
        }

        for (var r = 0; r < rows; r++)
        {
            counts[r + 1] += counts[r];
        }

        var next = (int[])counts.Clone();
        var indices = new int[rowOf.Length];
        var vals = new float[rowOf.Length];
        for (var k = 0; k < rowOf.Length; k++)
        {
            var slot = next[rowOf[k]]++;
            indices[slot] = columnOf[k];
            vals[slot] = values[k];
        }

        // Sort each row by column, merge duplicates, drop zeros, compacting in place.
        var write = 0;
        var rowStart = new int[rows + 1];
        for (var r = 0; r < rows; r++)
        {
            var start = counts[r];
            var length = counts[r + 1] - start;
            var rowIdx = indices.AsSpan(start, length);
            var rowVal = vals.AsSpan(start, length);
            if (!IsStrictlyIncreasing(rowIdx))
            {
                rowIdx.Sort(rowVal);
            }

            rowStart[r] = write;
            var k = 0;
            while (k < length)
            {
                var column = rowIdx[k];
                var sum = rowVal[k];
                k++;
                while (k < length && rowIdx[k] == column)
                {
                    sum += rowVal[k];
                    k++;
                }

                if (sum != 0)
                {
                    indices[write] = column;
                    vals[write] = sum;
                    write++;
                }
            }
        }

        rowStart[rows] = write;
        if (write != indices.Length)
        {
            Array.Resize(ref indices, write);
            Array.Resize(ref vals, write);
        }

        return new CsrMatrix(rows, columns, rowStart, indices, vals);
    }

    private static bool IsStrictlyIncreasing(ReadOnlySpan<int> values)
    {
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] <= values[i - 1])
            {
                return false;
            }
        }

        return true;
    }
}
