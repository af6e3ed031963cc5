namespace Lasthope.Trees.Native;

/// <summary>
/// Rows to train or validate on: a dense row-major feature matrix with a label per row, and for ranking the query
/// groups. NaN is a missing value.
/// </summary>
public sealed class TrainingData
{
    /// <param name="features">Row-major, <paramref name="rows"/> * <paramref name="columns"/> values.</param>
    /// <param name="rows">Number of rows (documents).</param>
    /// <param name="columns">Number of features per row.</param>
    /// <param name="labels">One label per row: graded relevance (0, 1, 2, ...) for lambdarank, 0/1 for binary.</param>
    public TrainingData(ReadOnlyMemory<double> features, int rows, int columns, ReadOnlyMemory<float> labels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if ((long)rows * columns != features.Length)
        {
            throw new ArgumentException($"{rows} rows of {columns} columns need {(long)rows * columns} values, got {features.Length}.", nameof(features));
        }

        if (labels.Length != rows)
        {
            throw new ArgumentException($"{rows} rows need {rows} labels, got {labels.Length}.", nameof(labels));
        }

        Features = features;
        Rows = rows;
        Columns = columns;
        Labels = labels;
    }

    /// <summary>Row-major features, <see cref="Rows"/> by <see cref="Columns"/>; NaN is missing.</summary>
    public ReadOnlyMemory<double> Features { get; }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of features per row.</summary>
    public int Columns { get; }

    /// <summary>One label per row.</summary>
    public ReadOnlyMemory<float> Labels { get; }

    /// <summary>
    /// Query group sizes for ranking: each is a number of consecutive rows (LightGBM's <c>.query</c> file, the
    /// <c>group</c> field); they must add up to <see cref="Rows"/>. Empty for binary and regression.
    /// </summary>
    public ReadOnlyMemory<int> Groups { get; init; }

    /// <summary>
    /// The position at which each row was shown, for position-bias correction in lambdarank (LightGBM's
    /// <c>position</c> field, Unbiased LambdaMART). Empty when positions are unknown.
    /// </summary>
    public ReadOnlyMemory<int> Positions { get; init; }

    /// <summary>Per-row weights; empty for 1.</summary>
    public ReadOnlyMemory<float> Weights { get; init; }

    internal void Validate(string name)
    {
        if (!Groups.IsEmpty)
        {
            long sum = 0;
            foreach (var g in Groups.Span)
            {
                if (g <= 0)
                {
                    throw new ArgumentException($"The {name} set has a query group of size {g}.");
                }

                sum += g;
            }

            if (sum != Rows)
            {
                throw new ArgumentException($"The {name} set's query groups add up to {sum} rows, but it has {Rows}.");
            }
        }

        if (!Positions.IsEmpty && Positions.Length != Rows)
        {
            throw new ArgumentException($"The {name} set has {Positions.Length} positions for {Rows} rows.");
        }

        if (!Weights.IsEmpty && Weights.Length != Rows)
        {
            throw new ArgumentException($"The {name} set has {Weights.Length} weights for {Rows} rows.");
        }
    }
}
