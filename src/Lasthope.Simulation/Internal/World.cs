namespace Lasthope.Simulation.Internal;

/// <summary>
/// The ground truth: attractiveness P(click | examined) of item i for grid segment s on day d, a logistic model
/// <code>
/// logit a(i, s, d) = logit(BaselineCtr)
///                  + quality_i                                   item quality, N(0, QualitySpread^2)
///                  + pref_s,c(i)(d)                              segment s's taste for the item's category, drifting
///                  + priceSensitivity_s * relativePrice_i        younger segments shy away from dear items
///                  + AffinitySpread * affinity_i,s               idiosyncratic item x segment match, N(0, 1)
///                  + DriftStrength * (sin(w1 d + p1) + sin(w2 d + p2))_i   smooth per-item drift, variance 1,
///                                                                          periods 20 to 90 days
///                  + NoveltyBoost * exp(-age / NoveltyDays) - AgingStrength * ln(1 + age / 30)
/// pref_s,c(d) = SegmentPreferenceSpread * base_s,c + (DriftStrength / 2) * sqrt(2) * sin(w_s,c d + p_s,c), periods 21 to 90 days
/// base_s,c    = (gender_g,c + slope_c * ageZ_a + interaction_s,c) / sqrt(2.5), all N(0, 1); ageZ from -1 (youngest) to 1
/// </code>
/// with age = max(0, d - published) in days. Everything random is keyed by (seed, what), so a(i, s, d) does not depend on
/// which values were asked for before. The unknown segment's attractiveness is the mixture of the grid segments'
/// weighted by the traffic share of the users the server cannot place.
/// </summary>
internal sealed class World
{
    private readonly SimulationOptions _options;
    private readonly int _categories;
    private readonly double _intercept;
    private readonly double[] _preference;
    private readonly double[] _preferenceFrequency;
    private readonly double[] _preferencePhase;
    private readonly double[] _priceSensitivity;
    private readonly double[] _unknownWeights;

    public World(SimulationOptions options, int ageBands, int genders, IReadOnlyList<double> unknownWeights)
    {
        _options = options;
        GridCount = ageBands * genders;
        _categories = options.CategoryCount;
        _intercept = Math.Log(options.BaselineCtr / (1.0 - options.BaselineCtr));
        _unknownWeights = [.. unknownWeights];

        var rng = Keys.Random(options.Seed, Stream.World, 2);
        var genderTaste = new double[genders * _categories];
        for (var i = 0; i < genderTaste.Length; i++)
        {
            genderTaste[i] = rng.NextGaussian();
        }

        var ageSlope = new double[_categories];
        for (var c = 0; c < _categories; c++)
        {
            ageSlope[c] = rng.NextGaussian();
        }

        _preference = new double[GridCount * _categories];
        _preferenceFrequency = new double[GridCount * _categories];
        _preferencePhase = new double[GridCount * _categories];
        _priceSensitivity = new double[GridCount];
        var norm = 1.0 / Math.Sqrt(2.5);
        for (var g = 0; g < genders; g++)
        {
            for (var a = 0; a < ageBands; a++)
            {
                var s = (g * ageBands) + a;
                var ageZ = ageBands == 1 ? 0.0 : (2.0 * a / (ageBands - 1)) - 1.0;
                _priceSensitivity[s] = -0.3 + (0.15 * ageZ) + (0.1 * rng.NextGaussian());
                for (var c = 0; c < _categories; c++)
                {
                    var k = (s * _categories) + c;
                    var raw = genderTaste[(g * _categories) + c] + (ageSlope[c] * ageZ) + rng.NextGaussian();
                    _preference[k] = options.SegmentPreferenceSpread * raw * norm;
                    _preferenceFrequency[k] = 2.0 * Math.PI / (21.0 + (69.0 * rng.NextDouble()));
                    _preferencePhase[k] = 2.0 * Math.PI * rng.NextDouble();
                }
            }
        }
    }

    /// <summary>Number of grid segments; index <see cref="GridCount"/> is the unknown segment.</summary>
    public int GridCount { get; }

    /// <summary>Attractiveness of item <paramref name="index"/> for segment <paramref name="segment"/> (grid or unknown) on <paramref name="day"/>.</summary>
    public double Attractiveness(in ItemParams item, int index, int segment, int day)
    {
        if (segment < GridCount)
        {
            return Sigmoid(Logit(item, index, segment, day, SharedLogit(item, day)));
        }

        var shared = SharedLogit(item, day);
        var sum = 0.0;
        for (var s = 0; s < GridCount; s++)
        {
            sum += _unknownWeights[s] * Sigmoid(Logit(item, index, s, day, shared));
        }

        return sum;
    }

    /// <summary>Fills <paramref name="destination"/>[s] for every grid segment and the unknown segment last.</summary>
    public void AttractivenessAll(in ItemParams item, int index, int day, Span<double> destination)
    {
        var shared = SharedLogit(item, day);
        var mixture = 0.0;
        for (var s = 0; s < GridCount; s++)
        {
            var a = Sigmoid(Logit(item, index, s, day, shared));
            destination[s] = a;
            mixture += _unknownWeights[s] * a;
        }

        destination[GridCount] = mixture;
    }

    /// <summary>The segment-independent part: intercept, quality, drift and lifecycle.</summary>
    private double SharedLogit(in ItemParams item, int day)
    {
        var o = _options;
        var age = Math.Max(0.0, day - item.Birth);
        var drift = Math.Sin((item.DriftFrequency1 * day) + item.DriftPhase1) + Math.Sin((item.DriftFrequency2 * day) + item.DriftPhase2);
        return _intercept
            + item.Quality
            + (o.DriftStrength * drift)
            + (o.NoveltyBoost * Math.Exp(-age / o.NoveltyDays))
            - (o.AgingStrength * Math.Log(1.0 + (age / 30.0)));
    }

    private double Logit(in ItemParams item, int index, int segment, int day, double shared)
    {
        var k = (segment * _categories) + item.Category;
        var preference = _preference[k]
            + (_options.DriftStrength * 0.5 * Math.Sqrt(2.0) * Math.Sin((_preferenceFrequency[k] * day) + _preferencePhase[k]));
        var affinity = _options.AffinitySpread == 0
            ? 0.0
            : _options.AffinitySpread * Keys.Random(_options.Seed, Stream.Affinity, index, segment).NextGaussian();
        return shared + preference + (_priceSensitivity[segment] * item.RelativePrice) + affinity;
    }

    private static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));
}
