using System.Globalization;

namespace Lasthope.Simulation;

/// <summary>
/// The examination probability of each position of a served list, the "position bias" of the position-based click
/// model (Craswell et al., "An experimental comparison of click position-bias models", WSDM 2008): a user examines
/// position p with probability <see cref="Examination"/>(p), independently of what is shown, and clicks an examined
/// item with the item's attractiveness. Positions past <see cref="Depth"/> are never examined (the end of the page).
/// </summary>
public sealed class PositionBias
{
    private readonly double[] _examination;

    private PositionBias(double[] examination, string description)
    {
        _examination = examination;
        Description = description;
    }

    /// <summary>
    /// The default: examination (1/p)^0.7 down to position 50, the power-law form used for simulated position bias in
    /// unbiased learning to rank (Joachims, Swaminathan and Schnabel, WSDM 2017), with a gentler exponent than their 1
    /// because a list is scrolled rather than paged. Position 10 is examined with probability 0.20, position 50 with 0.065.
    /// </summary>
    public static PositionBias Default { get; } = PowerLaw(0.7, 50);

    /// <summary>Number of positions that can be examined; position <see cref="Depth"/> + 1 onwards has probability 0.</summary>
    public int Depth => _examination.Length;

    /// <summary>A human-readable form, such as <c>power(0.7, depth 50)</c>.</summary>
    public string Description { get; }

    /// <summary>Examination (1/p)^<paramref name="exponent"/> for p = 1..<paramref name="depth"/>.</summary>
    /// <param name="exponent">Non-negative; 0 means every position up to the depth is examined.</param>
    /// <param name="depth">How many positions can be examined, 1 to 10,000.</param>
    public static PositionBias PowerLaw(double exponent, int depth)
    {
        if (!double.IsFinite(exponent) || exponent < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "The exponent must be finite and non-negative.");
        }

        CheckDepth(depth);
        var table = new double[depth];
        for (var p = 1; p <= depth; p++)
        {
            table[p - 1] = Math.Pow(p, -exponent);
        }

        return new PositionBias(table, string.Create(CultureInfo.InvariantCulture, $"power({exponent}, depth {depth})"));
    }

    /// <summary>
    /// Examination <paramref name="continuation"/>^(p - 1): the user goes on to the next position with a fixed
    /// probability, the decay of a cascade-style scan.
    /// </summary>
    /// <param name="continuation">Probability of going on to the next position, in (0, 1].</param>
    /// <param name="depth">How many positions can be examined, 1 to 10,000.</param>
    public static PositionBias Geometric(double continuation, int depth)
    {
        if (!(continuation is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(continuation), continuation, "The continuation probability must be in (0, 1].");
        }

        CheckDepth(depth);
        var table = new double[depth];
        var e = 1.0;
        for (var p = 1; p <= depth; p++)
        {
            table[p - 1] = e;
            e *= continuation;
        }

        return new PositionBias(table, string.Create(CultureInfo.InvariantCulture, $"geometric({continuation}, depth {depth})"));
    }

    /// <summary>Explicit examination probabilities for positions 1, 2, ...; the depth is the table's length.</summary>
    /// <param name="examination">Each in [0, 1]; between 1 and 10,000 values.</param>
    public static PositionBias FromTable(IReadOnlyList<double> examination)
    {
        ArgumentNullException.ThrowIfNull(examination);
        CheckDepth(examination.Count);
        var table = new double[examination.Count];
        for (var i = 0; i < table.Length; i++)
        {
            var e = examination[i];
            if (!(e is >= 0 and <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(examination), e, $"Examination at position {i + 1} must be in [0, 1].");
            }

            table[i] = e;
        }

        return new PositionBias(table, $"table(depth {table.Length})");
    }

    /// <summary>Probability that a user examines 1-based <paramref name="position"/>; 0 past <see cref="Depth"/>.</summary>
    public double Examination(int position)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(position, 1);
        return position <= _examination.Length ? _examination[position - 1] : 0.0;
    }

    /// <summary>The examination probabilities of positions 1..<see cref="Depth"/>.</summary>
    public ReadOnlySpan<double> Table => _examination;

    /// <inheritdoc />
    public override string ToString() => Description;

    private static void CheckDepth(int depth)
    {
        if (depth is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "The depth must be between 1 and 10,000 positions.");
        }
    }
}
