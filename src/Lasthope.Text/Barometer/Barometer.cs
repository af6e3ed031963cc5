using System.Globalization;
using Lasthope.Evaluation;

namespace Lasthope.Text.Barometer;

// How `lasthope barometer --model M --input FILE --text COL --date COL [--period day|week|month] [--html FILE]
// [--json FILE]` uses this namespace (the command itself waits for the text model):
//   1. DatedTextCsv.Read(FILE, new DatedTextCsvOptions { TextColumn = COL, DateColumn = COL }) reads the dated texts
//      (BarometerInputException names the line and column of a bad row; the command prints it and exits with the
//      input-error code);
//   2. the model M scores the texts in batches (ITextScorer.Score: class probabilities, row-major);
//   3. BarometerInput.FromProbabilities(dates, probabilities, model's class names, PolarityMapping.Default or the
//      command's --positive/--negative/--neutral, PolarityRule.MostLikely or --expected) gives the rows;
//   4. SentimentBarometer.Aggregate(rows, new BarometerOptions { Period = ..., SmoothingWindow = ..., Seed = ... });
//   5. BarometerJson.Serialize(result, description) for --json, and the CLI's Charts.BarometerHtml.Render(result,
//      description, generated) for --html; the console shows the last points.

/// <summary>The calendar unit of the barometer's points.</summary>
public enum BarometerPeriod
{
    /// <summary>One calendar day.</summary>
    Day,

    /// <summary>An ISO 8601 week: Monday to Sunday, labelled by its ISO year and week number (2024-W01).</summary>
    Week,

    /// <summary>A calendar month (2024-03).</summary>
    Month,
}

/// <summary>How <see cref="SentimentBarometer.Aggregate"/> groups, smooths and bounds.</summary>
public sealed record BarometerOptions
{
    /// <summary>The period of a point. Default: a week.</summary>
    public BarometerPeriod Period { get; init; } = BarometerPeriod.Week;

    /// <summary>
    /// The trailing window of the smoothed index, in periods (calendar periods, gaps included): 1 is no smoothing.
    /// Default 4 (four weeks, four days or four months, with the period).
    /// </summary>
    public int SmoothingWindow { get; init; } = 4;

    /// <summary>Bootstrap resamples per period (1 to 100,000). Default 1,000.</summary>
    public int Resamples { get; init; } = 1_000;

    /// <summary>The intervals' confidence level, in (0, 1). Default 0.95.</summary>
    public double Level { get; init; } = 0.95;

    /// <summary>The resampling's seed: the same rows and seed give the same intervals.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>At most this many texts (default 1,000,000): the bootstrap costs rows x resamples draws.</summary>
    public int MaxRows { get; init; } = 1_000_000;

    /// <summary>At most this many periods from the first text's to the last's, gaps included (default 5,000: 13 years of days).</summary>
    public int MaxPeriods { get; init; } = 5_000;
}

/// <summary>
/// One period of the barometer. A period without texts is a gap: <see cref="Count"/> 0 and every figure null (never
/// 0, which would read as "as many positive as negative texts").
/// </summary>
/// <param name="Label">2024-03-05 (day), 2024-W10 (ISO week), 2024-03 (month).</param>
/// <param name="Start">The period's first day.</param>
/// <param name="End">The period's last day (inclusive).</param>
/// <param name="Count">Texts dated in the period.</param>
/// <param name="PositiveShare">The share of positive texts (mean of <see cref="BarometerRow.Positive"/>).</param>
/// <param name="NegativeShare">The share of negative texts (mean of <see cref="BarometerRow.Negative"/>).</param>
/// <param name="Index">PositiveShare - NegativeShare, in [-1, 1]: the mean polarity.</param>
/// <param name="Lower">The percentile bootstrap interval's lower bound of the index.</param>
/// <param name="Upper">Its upper bound.</param>
/// <param name="Smoothed">The count-weighted trailing mean of the index (<see cref="SentimentBarometer"/>); null at a gap.</param>
/// <param name="SmoothedCount">Texts in the smoothing window ending at this period.</param>
public sealed record BarometerPoint(
    string Label,
    DateOnly Start,
    DateOnly End,
    int Count,
    double? PositiveShare,
    double? NegativeShare,
    double? Index,
    double? Lower,
    double? Upper,
    double? Smoothed,
    int SmoothedCount)
{
    /// <summary>No text is dated in the period.</summary>
    public bool IsGap => Count == 0;
}

/// <summary>The barometer: one point per period from the first text's period to the last's, gaps included.</summary>
/// <param name="Options">The options it was computed with.</param>
/// <param name="Points">In calendar order; empty when there was no row.</param>
/// <param name="Texts">Rows aggregated (the sum of the counts).</param>
public sealed record BarometerResult(BarometerOptions Options, IReadOnlyList<BarometerPoint> Points, int Texts);

/// <summary>
/// The sentiment barometer: per period, the share of positive minus the share of negative texts, with a bootstrap
/// interval and a smoothed line.
/// <para>
/// <b>Index.</b> For the n texts of a period with polarities x_i (+1, -1, 0 from labels; P(pos) - P(neg) under
/// <see cref="PolarityRule.Expected"/>), index = mean(x) = positive share - negative share, in [-1, 1].
/// </para>
/// <para>
/// <b>Interval.</b> The nonparametric percentile bootstrap of the mean (Efron and Tibshirani 1993, <i>An Introduction
/// to the Bootstrap</i>, ch. 13), through <see cref="Bootstrap.MeanInterval"/>: the period's texts are resampled with
/// replacement, n at a time, and the interval is the (1-level)/2 and (1+level)/2 quantiles of the resampled indices.
/// Texts are the unit because the model labels each text on its own; texts of one author or one story are
/// correlated, which the interval ignores (it is then too narrow). With few texts the percentile interval is too
/// narrow as well (one text gives a zero-width interval): read it with the count beside it. Each period is resampled
/// with its own seed, derived from <see cref="BarometerOptions.Seed"/> and the period's first day, so a period's
/// interval does not change when texts are added to other periods.
/// </para>
/// <para>
/// <b>Smoothing.</b> A trailing moving average over the last w calendar periods (this one and the w - 1 before),
/// weighted by counts: smoothed_t = sum_s (pos_s - neg_s) / sum_s n_s over s in (t - w, t], which is the index of all
/// the window's texts pooled. Trailing, not centered, because a barometer is read at its newest point: a centered
/// window has no value there, or one that changes when the next period arrives. Weighted by counts, so a period of 3
/// texts does not move the line as much as one of 300; a constant series stays the constant. Gaps count as periods of
/// the window (w = 4 weeks is four calendar weeks, not the last four weeks with texts) and have no smoothed value of
/// their own.
/// </para>
/// <para>
/// (Named SentimentBarometer, not Barometer: a type named as its namespace would hide the type from any code inside
/// Lasthope.Text, where <c>Barometer</c> binds to the namespace.)
/// </para>
/// </summary>
public static class SentimentBarometer
{
    private const int MaxResamples = 100_000;

    /// <summary>
    /// The barometer of <paramref name="rows"/> (any order). Deterministic: the same rows, in any order, and options
    /// give the same result. Throws <see cref="BarometerInputException"/> for more rows than
    /// <see cref="BarometerOptions.MaxRows"/> or a span of more periods than <see cref="BarometerOptions.MaxPeriods"/>,
    /// <see cref="ArgumentException"/> for a row whose shares are not in [0, 1] or sum above 1, and
    /// <see cref="ArgumentOutOfRangeException"/> for options out of range.
    /// </summary>
    public static BarometerResult Aggregate(IReadOnlyList<BarometerRow> rows, BarometerOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        if (rows.Count > options.MaxRows)
        {
            throw new BarometerInputException($"{rows.Count:N0} texts are more than the barometer's bound of {options.MaxRows:N0}.");
        }

        if (rows.Count == 0)
        {
            return new BarometerResult(options, [], 0);
        }

        var first = rows[0].Date;
        var last = first;
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            if (!(r.Positive >= 0 && r.Negative >= 0 && r.Positive + r.Negative <= 1 + 1e-9))
            {
                throw new ArgumentException($"Row {i}: positive {r.Positive} and negative {r.Negative} must be in [0, 1] and sum to at most 1.", nameof(rows));
            }

            first = r.Date < first ? r.Date : first;
            last = r.Date > last ? r.Date : last;
        }

        var origin = PeriodStart(first, options.Period);
        var spanned = PeriodIndex(origin, last, options.Period) + 1L;
        if (spanned > options.MaxPeriods)
        {
            throw new BarometerInputException($"The texts span {spanned:N0} {options.Period.ToString().ToLowerInvariant()}s ({first:yyyy-MM-dd} to {last:yyyy-MM-dd}), more than the bound of {options.MaxPeriods:N0}: choose a longer period.");
        }

        var periods = (int)spanned;

        // Group the polarities by period (a counting sort), in the rows' order within a period, then sort each period's
        // values so that the bootstrap does not depend on the rows' order.
        var counts = new int[periods];
        var index = new int[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            index[i] = PeriodIndex(origin, rows[i].Date, options.Period);
            counts[index[i]]++;
        }

        var offsets = new int[periods + 1];
        for (var p = 0; p < periods; p++)
        {
            offsets[p + 1] = offsets[p] + counts[p];
        }

        var values = new double[rows.Count];
        var positive = new double[periods];
        var negative = new double[periods];
        var next = offsets[..^1];
        for (var i = 0; i < rows.Count; i++)
        {
            var p = index[i];
            values[next[p]++] = rows[i].Polarity;
            positive[p] += rows[i].Positive;
            negative[p] += rows[i].Negative;
        }

        var intervals = new Interval[periods];
        Parallel.For(0, periods, p =>
        {
            if (counts[p] > 0)
            {
                var slice = values.AsSpan(offsets[p], counts[p]);
                slice.Sort();
                intervals[p] = Bootstrap.MeanInterval(slice, options.Level, options.Resamples, PeriodSeed(options.Seed, PeriodAt(origin, p, options.Period)));
            }
        });

        var points = new BarometerPoint[periods];
        for (var p = 0; p < periods; p++)
        {
            // The window's sums are taken afresh (at most MaxPeriods x w additions) rather than kept as a running sum
            // whose subtractions would leave rounding behind: a constant series then smooths to exactly its constant.
            double windowBalance = 0;
            var windowCount = 0;
            for (var s = Math.Max(0, p - options.SmoothingWindow + 1); s <= p; s++)
            {
                windowBalance += positive[s] - negative[s];
                windowCount += counts[s];
            }

            var start = PeriodAt(origin, p, options.Period);
            var end = NextPeriod(start, options.Period).AddDays(-1);
            var label = Label(start, options.Period);
            var n = counts[p];
            points[p] = n == 0
                ? new BarometerPoint(label, start, end, 0, null, null, null, null, null, null, windowCount)
                : new BarometerPoint(
                    label, start, end, n,
                    positive[p] / n,
                    negative[p] / n,
                    Clamp((positive[p] - negative[p]) / n),
                    intervals[p].Lower,
                    intervals[p].Upper,
                    Clamp(windowBalance / windowCount),
                    windowCount);
        }

        return new BarometerResult(options, points, rows.Count);
    }

    /// <summary>The first day of the period holding <paramref name="date"/>: the date, its ISO week's Monday, or the first of its month.</summary>
    public static DateOnly PeriodStart(DateOnly date, BarometerPeriod period) => period switch
    {
        BarometerPeriod.Day => date,
        BarometerPeriod.Week => date.AddDays(-(((int)date.DayOfWeek + 6) % 7)),
        BarometerPeriod.Month => new DateOnly(date.Year, date.Month, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(period), period, "Unknown period."),
    };

    /// <summary>The first day of the period after the one starting on <paramref name="start"/>.</summary>
    public static DateOnly NextPeriod(DateOnly start, BarometerPeriod period) => period switch
    {
        BarometerPeriod.Day => start.AddDays(1),
        BarometerPeriod.Week => start.AddDays(7),
        BarometerPeriod.Month => start.AddMonths(1),
        _ => throw new ArgumentOutOfRangeException(nameof(period), period, "Unknown period."),
    };

    /// <summary>
    /// The period's label: yyyy-MM-dd for a day, the ISO week (yyyy-Www, whose year is the ISO year: 2024-12-30 is in
    /// 2025-W01) for a week, yyyy-MM for a month.
    /// </summary>
    public static string Label(DateOnly start, BarometerPeriod period) => period switch
    {
        BarometerPeriod.Day => start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        BarometerPeriod.Week => string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(start.ToDateTime(TimeOnly.MinValue)):D4}-W{ISOWeek.GetWeekOfYear(start.ToDateTime(TimeOnly.MinValue)):D2}"),
        BarometerPeriod.Month => start.ToString("yyyy-MM", CultureInfo.InvariantCulture),
        _ => throw new ArgumentOutOfRangeException(nameof(period), period, "Unknown period."),
    };

    private static int PeriodIndex(DateOnly origin, DateOnly date, BarometerPeriod period) => period switch
    {
        BarometerPeriod.Day => date.DayNumber - origin.DayNumber,
        BarometerPeriod.Week => (PeriodStart(date, period).DayNumber - origin.DayNumber) / 7,
        _ => ((date.Year - origin.Year) * 12) + date.Month - origin.Month,
    };

    private static DateOnly PeriodAt(DateOnly origin, int index, BarometerPeriod period) => period switch
    {
        BarometerPeriod.Day => origin.AddDays(index),
        BarometerPeriod.Week => origin.AddDays(7 * index),
        _ => origin.AddMonths(index),
    };

    /// <summary>A seed per period from the run's seed and the period's first day (SplitMix64's finaliser, so neighbouring days differ in every bit).</summary>
    private static int PeriodSeed(int seed, DateOnly start)
    {
        var z = unchecked(((ulong)(uint)seed << 32) ^ (uint)start.DayNumber) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return unchecked((int)(z ^ (z >> 31)));
    }

    /// <summary>Rounding can put a mean of values in [-1, 1] a hair outside; the index is a share difference, so it is clamped.</summary>
    private static double Clamp(double index) => Math.Clamp(index, -1, 1);

    private static void Validate(BarometerOptions options)
    {
        if (!Enum.IsDefined(options.Period))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Period, "Unknown period.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.SmoothingWindow, 1, nameof(options.SmoothingWindow));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.SmoothingWindow, options.MaxPeriods, nameof(options.SmoothingWindow));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Resamples, 1, nameof(options.Resamples));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Resamples, MaxResamples, nameof(options.Resamples));
        if (!(options.Level > 0 && options.Level < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Level, "The level must be in (0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRows, 1, nameof(options.MaxRows));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPeriods, 1, nameof(options.MaxPeriods));
    }
}
