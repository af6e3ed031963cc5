using System.Globalization;

namespace Lasthope.Simulation.Players;

/// <summary>
/// The feature and truth table as CSV, one row per player, for a generic trainer (<c>--data CSV --label COL</c>). A
/// header row of snake_case names (<see cref="Columns"/>), comma-separated, invariant culture, no quoting (no value holds
/// a comma), LF line ends. Numbers are written in their shortest round-trip form; a first purchase day with no purchase
/// is <c>NaN</c>; categories are words (<see cref="PlayerCategories"/>); <c>whale</c> is 0 or 1.
/// </summary>
/// <remarks>
/// The truth columns (<see cref="TruthColumns"/>) are the labels and must not be used as features: they are the future.
/// Train on <see cref="FeatureColumns"/> with one truth column as the label.
/// </remarks>
public static class PlayerCsv
{
    /// <summary>The feature columns for <paramref name="featureDays"/> D, in the order written.</summary>
    public static IReadOnlyList<string> FeatureColumns(int featureDays)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(featureDays, 1);
        var d = featureDays.ToString(CultureInfo.InvariantCulture);
        return
        [
            "install_day", "platform", "channel", "country_tier", $"sessions_d{d}", $"active_days_d{d}", $"sessions_last_day_d{d}",
            $"purchases_d{d}", $"revenue_d{d}", $"max_purchase_d{d}", "first_purchase_day",
        ];
    }

    /// <summary>The truth columns for <paramref name="horizonDays"/> H: realised revenue, whale flag, true LTV.</summary>
    public static IReadOnlyList<string> TruthColumns(int horizonDays)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(horizonDays, 1);
        var h = horizonDays.ToString(CultureInfo.InvariantCulture);
        return [$"revenue_d{h}", "whale", $"true_ltv_d{h}"];
    }

    /// <summary>Every column, features then truth.</summary>
    public static IReadOnlyList<string> Columns(int featureDays, int horizonDays) =>
        [.. FeatureColumns(featureDays), .. TruthColumns(horizonDays)];

    /// <summary>Writes every player of <paramref name="population"/>, features over <see cref="PlayerSimulationOptions.FeatureDays"/>.</summary>
    public static void Write(TextWriter writer, PlayerPopulation population)
    {
        ArgumentNullException.ThrowIfNull(population);
        Write(writer, population.Rows(), population.Options.FeatureDays, population.HorizonDays);
    }

    /// <summary>Writes the header and <paramref name="rows"/>, which must all cover D = <paramref name="featureDays"/> and H = <paramref name="horizonDays"/>.</summary>
    /// <exception cref="ArgumentException">A row covers other days.</exception>
    public static void Write(TextWriter writer, IEnumerable<PlayerRow> rows, int featureDays, int horizonDays)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(rows);
        writer.Write(string.Join(',', Columns(featureDays, horizonDays)));
        writer.Write('\n');
        Span<char> buffer = stackalloc char[64];
        foreach (var row in rows)
        {
            var f = row.Features;
            var t = row.Truth;
            if (f.FeatureDays != featureDays || t.HorizonDays != horizonDays)
            {
                throw new ArgumentException(
                    $"Row {row.Index} covers D = {f.FeatureDays}, H = {t.HorizonDays}; the table is D = {featureDays}, H = {horizonDays}.", nameof(rows));
            }

            Cell(writer, buffer, f.InstallDay);
            Text(writer, PlayerCategories.Name(f.Platform));
            Text(writer, PlayerCategories.Name(f.Channel));
            Text(writer, PlayerCategories.CountryTierName(f.CountryTier));
            Cell(writer, buffer, f.Sessions);
            Cell(writer, buffer, f.ActiveDays);
            Cell(writer, buffer, f.SessionsLastDay);
            Cell(writer, buffer, f.Purchases);
            Cell(writer, buffer, f.Revenue);
            Cell(writer, buffer, f.MaxPurchase);
            Cell(writer, buffer, f.FirstPurchaseDay);
            Cell(writer, buffer, t.Revenue);
            Cell(writer, buffer, t.IsWhale ? 1 : 0);
            Cell(writer, buffer, t.ExpectedRevenue, last: true);
        }
    }

    private static void Text(TextWriter writer, string value)
    {
        writer.Write(value);
        writer.Write(',');
    }

    private static void Cell<T>(TextWriter writer, Span<char> buffer, T value, bool last = false)
        where T : ISpanFormattable
    {
        // Shortest round-trip for doubles ("R" semantics are the default since .NET Core 3.0); NaN is written as NaN.
        if (!value.TryFormat(buffer, out var written, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("A number did not fit its 64-character buffer.");
        }

        writer.Write(buffer[..written]);
        writer.Write(last ? '\n' : ',');
    }
}
