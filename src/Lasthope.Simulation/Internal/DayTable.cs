namespace Lasthope.Simulation.Internal;

/// <summary>
/// Everything about one simulated day that requests and truth queries read: the live catalogue in publication order
/// and the attractiveness of every item published by the day's end for every segment, computed once. The truth is
/// constant within a day, so a request reads it with one array index.
/// </summary>
internal sealed class DayTable
{
    /// <summary>Quantiles of the live catalogue's attractiveness at which relevance grades 1, 2, 3 and 4 begin.</summary>
    public static readonly double[] GradeQuantiles = [0.5, 0.8, 0.95, 0.99];

    private readonly double[] _attractiveness;
    private readonly int[] _live;
    private readonly double[] _newcomerBirths;
    private readonly int _liveAtStart;
    private readonly double[] _gradeThresholds;

    public DayTable(int day, Catalogue catalogue, World world)
    {
        Day = day;
        var count = (int)catalogue.CountBornBefore(day + 1);
        Items = catalogue.Ensure(count);
        Count = count;
        Segments = world.GridCount + 1;
        _attractiveness = new double[Segments * count];
        var row = new double[Segments];
        var live = new List<int>();
        var newcomers = new List<(double Birth, int Index)>();
        for (var i = 0; i < count; i++)
        {
            ref readonly var item = ref Items.Params[i];
            world.AttractivenessAll(item, i, day, row);
            for (var s = 0; s < Segments; s++)
            {
                _attractiveness[(s * count) + i] = row[s];
            }

            if (item.RetireDay <= day)
            {
                continue;
            }

            if (item.Birth <= day)
            {
                live.Add(i);
            }
            else if (item.Birth < day + 1)
            {
                newcomers.Add((item.Birth, i));
            }
        }

        newcomers.Sort();
        _liveAtStart = live.Count;
        _newcomerBirths = new double[newcomers.Count];
        for (var k = 0; k < newcomers.Count; k++)
        {
            _newcomerBirths[k] = newcomers[k].Birth;
            live.Add(newcomers[k].Index);
        }

        _live = [.. live];

        // Grade thresholds over the items live at the start of the day, per segment.
        _gradeThresholds = new double[Segments * GradeQuantiles.Length];
        var values = new double[_liveAtStart];
        for (var s = 0; s < Segments; s++)
        {
            for (var k = 0; k < _liveAtStart; k++)
            {
                values[k] = _attractiveness[(s * count) + _live[k]];
            }

            Array.Sort(values);
            for (var q = 0; q < GradeQuantiles.Length; q++)
            {
                _gradeThresholds[(s * GradeQuantiles.Length) + q] = values.Length == 0
                    ? double.PositiveInfinity
                    : values[Math.Min(values.Length - 1, (int)Math.Floor(GradeQuantiles[q] * values.Length))];
            }
        }
    }

    public int Day { get; }

    public ItemSnapshot Items { get; }

    /// <summary>Items with a precomputed attractiveness: 0..Count-1.</summary>
    public int Count { get; }

    public int Segments { get; }

    /// <summary>
    /// Items live at some time of the day: those live at its start (ascending index), then those published during the
    /// day in publication order. A prefix of length <see cref="LiveCount"/> is live at a given time.
    /// </summary>
    public ReadOnlySpan<int> Live => _live;

    /// <summary>Number of items live at <paramref name="dayTime"/> (days since the start, within this day).</summary>
    public int LiveCount(double dayTime)
    {
        // First newcomer published after dayTime.
        int lo = 0, hi = _newcomerBirths.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_newcomerBirths[mid] <= dayTime)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return _liveAtStart + lo;
    }

    /// <summary>Attractiveness of a precomputed item (index below <see cref="Count"/>).</summary>
    public double Attractiveness(int item, int segment) => _attractiveness[(segment * Count) + item];

    /// <summary>Relevance grade 0..4 of an attractiveness value for a segment on this day.</summary>
    public int Grade(double attractiveness, int segment)
    {
        var grade = 0;
        var offset = segment * GradeQuantiles.Length;
        for (var q = 0; q < GradeQuantiles.Length; q++)
        {
            if (attractiveness >= _gradeThresholds[offset + q])
            {
                grade = q + 1;
            }
        }

        return grade;
    }
}

/// <summary>
/// The daily traffic cycle: intensity 1 + A cos(2 pi (x - peak)) over the fraction x of the day, whose integral
/// F(x) = x + A / (2 pi) (sin(2 pi (x - peak)) + sin(2 pi peak)) is tabulated per minute and inverted by interpolation.
/// </summary>
internal sealed class DailyCycle
{
    private const int Steps = 1440;
    private readonly double[] _cdf = new double[Steps + 1];

    public DailyCycle(double amplitude, double peakHour)
    {
        var peak = peakHour / 24.0;
        for (var m = 0; m <= Steps; m++)
        {
            var x = (double)m / Steps;
            _cdf[m] = x + (amplitude / (2.0 * Math.PI) * (Math.Sin(2.0 * Math.PI * (x - peak)) + Math.Sin(2.0 * Math.PI * peak)));
        }

        _cdf[0] = 0.0;
        _cdf[Steps] = 1.0;
    }

    /// <summary>The fraction of the day by which a share <paramref name="y"/> in [0, 1) of the day's traffic has arrived.</summary>
    public double Inverse(double y)
    {
        int lo = 0, hi = Steps;
        while (hi - lo > 1)
        {
            var mid = (lo + hi) >>> 1;
            if (_cdf[mid] <= y)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        var width = _cdf[lo + 1] - _cdf[lo];
        var within = width > 0 ? (y - _cdf[lo]) / width : 0.0;
        return (lo + Math.Clamp(within, 0.0, 1.0)) / Steps;
    }
}
