using System.ComponentModel.DataAnnotations;
using Lasthope.Core.Identifiers;
using Lasthope.Core.Items;
using Microsoft.Extensions.Options;
namespace Lasthope.Server.Configuration;

/// <summary>The model path of POST /v1/rank (section <c>Lasthope:Serving</c>).</summary>
public sealed class ServingOptions : IValidatableObject
{
    /// <summary>End-to-end budget of a rank request, from arrival, in milliseconds. Default 80.</summary>
    [Range(0d, 60_000d, MinimumIsExclusive = true, ErrorMessage = "Serving:BudgetMs must be in (0, 60000].")]
    public double BudgetMs { get; init; } = 80;

    /// <summary>How many of the heuristic's top candidates the model re-ranks (K). Default 300.</summary>
    [Range(0, int.MaxValue, ErrorMessage = "Serving:RerankDepth must not be negative.")]
    public int RerankDepth { get; init; } = 300;

    /// <summary>
    /// Time kept back from the budget for what follows the deadline: the timer firing late, the continuation getting a
    /// thread, and writing the response. Default 5 ms (docs/performance.md shows why).
    /// </summary>
    public double ResponseReserveMs { get; init; } = 5;

    /// <summary>
    /// Rank requests computing at once (the heuristic stage, or features and scoring); the rest wait their turn, first
    /// come first served, and the wait counts against their budget. A model stage that would wait past its budget falls
    /// back with "overload". Running more CPU-bound requests than cores only slices the cores thinner: every request gets
    /// slower together. Default: the number of cores.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "Serving:MaxConcurrentRequests must be at least 1.")]
    public int MaxConcurrentRequests { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// The longest a request waits for CPU turns before its model stage is shed ("overload"): one that waited longer
    /// for its heuristic turn skips the model, and a model stage waits for its own turn at most this long. Under
    /// sustained overload this keeps the queues short: model work is shed as soon as requests start to wait, instead
    /// of being admitted while any budget remains, which would hold every request's latency at the budget. Default 10 ms.
    /// </summary>
    [Range(0d, double.MaxValue, ErrorMessage = "Serving:ShedModelAboveWaitMs must be a non-negative number.")]
    public double ShedModelAboveWaitMs { get; init; } = 10;

    /// <summary>
    /// The ceiling of the serving door: rank, recommend, predict and text requests admitted at once, from arrival to
    /// response; more are refused with 503 and Retry-After before any work. Below the ceiling the door's limit adapts
    /// (<see cref="QueueTargetMs"/>). This bounds every queue behind the door: a server past its capacity answers the
    /// excess at once and keeps serving the rest within budget, instead of queueing without end (memory, collection
    /// pauses and per-request overhead then grow with the queue). By Little's law the requests in flight are the rate
    /// times the latency; the default, 64 per core, leaves room for bursts answered within the budget
    /// (docs/performance.md measures it). 0 for no door at all.
    /// </summary>
    [Range(0, int.MaxValue, ErrorMessage = "Serving:MaxRequestsInFlight must be 0 (no limit) or more.")]
    public int MaxRequestsInFlight { get; init; } = 64 * Environment.ProcessorCount;

    /// <summary>
    /// The floor of the door's adaptive limit: it never lets in fewer at once than this. Default 8 per core: the
    /// CPU turns and a short queue behind each.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "Serving:MinRequestsInFlight must be at least 1.")]
    public int MinRequestsInFlight { get; init; } = 8 * Environment.ProcessorCount;

    /// <summary>
    /// The queue delay the door's limit aims at: while the smoothed wait for a CPU turn is longer, the limit shrinks by
    /// a tenth every 10 ms; while it is shorter and the limit is in use, it grows by about one per limit's worth of
    /// requests (AIMD, as Netflix's concurrency-limits; the signal is CoDel's standing queue delay). Default 5 ms.
    /// </summary>
    [Range(0d, 60_000d, ErrorMessage = "Serving:QueueTargetMs must be in [0, 60000].")]
    public double QueueTargetMs { get; init; } = 5;

    /// <summary>
    /// Items per segment in the last resort's tables (the heuristic's best, computed in the background), which answer a
    /// request that can get no CPU turn within its budget. Default 10,000.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "Serving:LastResortItems must be from 1 to 10,000,000.")]
    public int LastResortItems { get; init; } = 10_000;

    /// <summary>How often the last resort's tables are rebuilt from the counters, in seconds. Default 5.</summary>
    [Range(0.1d, 86_400d, ErrorMessage = "Serving:LastResortRefreshSeconds must be in [0.1, 86400].")]
    public double LastResortRefreshSeconds { get; init; } = 5;

    /// <summary>
    /// The longest a rank request waits for the store to say which segment a user without age and gender was last
    /// served in. Past it the request is served as unknown with the note "store_slow", and the answer is remembered
    /// for the user's next request. Default 5 ms.
    /// </summary>
    public double StoreLookupTimeoutMs { get; init; } = 5;

    /// <summary>
    /// Thread-pool threads kept ready. Default 0: the runtime's default, one per core. CPU work takes turns in the
    /// scoring gate and waits for them without holding a thread, so more threads only add runnable threads that
    /// preempt the one holding a turn.
    /// </summary>
    public int MinThreads { get; init; }

    /// <summary>
    /// Run the process's garbage collector in <see cref="System.Runtime.GCLatencyMode.SustainedLowLatency"/>: no
    /// blocking full collections unless memory is short, only background ones, whose pauses stay within the budget.
    /// Default true.
    /// </summary>
    public bool SustainedLowLatencyGc { get; init; } = true;

    /// <summary>Log the built-in features of the shown items when no model scored, so the first model can be trained from heuristic traffic. Default true.</summary>
    public bool LogFeaturesWithoutModel { get; init; } = true;

    /// <summary>
    /// Per-surface settings. The keys, with <c>default</c>, the recommend surface and the experiments' surfaces, are
    /// the only surfaces served (<c>SurfaceCatalog</c>); an empty object declares a surface with the defaults.
    /// </summary>
    public IDictionary<string, SurfaceOptions> Surfaces { get; init; } = new Dictionary<string, SurfaceOptions>(StringComparer.Ordinal);

    /// <summary>The value of <see cref="UnknownSurface"/> that serves an unknown surface as <c>default</c>.</summary>
    public const string UnknownSurfaceDefault = "default";

    /// <summary>What an unknown surface gets: <c>reject</c> (400 naming the field, the default) or <c>default</c> (served and counted as the default surface).</summary>
    public string UnknownSurface { get; init; } = "reject";

    [ValidateObjectMembers]
    public CircuitBreakerOptions CircuitBreaker { get; init; } = new();

    [ValidateObjectMembers]
    public FallbackAlarmOptions FallbackAlarm { get; init; } = new();

    [ValidateObjectMembers]
    public FaultInjectionOptions FaultInjection { get; init; } = new();

    /// <summary>Running experiments.</summary>
    [ValidateEnumeratedItems]
    public IList<ExperimentOptions> Experiments { get; init; } = [];

    public SurfaceOptions Surface(string surface) => Surfaces.TryGetValue(surface, out var options) ? options : SurfaceOptions.Default;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!double.IsFinite(ResponseReserveMs) || ResponseReserveMs < 0 || ResponseReserveMs >= BudgetMs)
        {
            yield return new ValidationResult("Serving:ResponseReserveMs must be in [0, BudgetMs).", [nameof(ResponseReserveMs)]);
            yield break;
        }

        if (!double.IsFinite(StoreLookupTimeoutMs) || StoreLookupTimeoutMs < 0 || StoreLookupTimeoutMs >= BudgetMs)
        {
            yield return new ValidationResult("Serving:StoreLookupTimeoutMs must be in [0, BudgetMs).", [nameof(StoreLookupTimeoutMs)]);
            yield break;
        }

        if (UnknownSurface is not ("reject" or UnknownSurfaceDefault))
        {
            yield return new ValidationResult("Serving:UnknownSurface must be reject or default.", [nameof(UnknownSurface)]);
            yield break;
        }

        foreach (var (name, surface) in Surfaces)
        {
            if (!ConfiguredName.IsValid(name))
            {
                yield return new ValidationResult($"Serving:Surfaces: '{Ids.Printable(name)}' is not a surface name: 1 to 64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit.", [nameof(Surfaces)]);
                yield break;
            }

            foreach (var problem in surface.Validate(name))
            {
                yield return problem;
            }
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var surfaces = new HashSet<string>(StringComparer.Ordinal);
        foreach (var experiment in Experiments)
        {
            if (!ids.Add(experiment.Id))
            {
                yield return new ValidationResult($"Serving:Experiments has two experiments with id '{experiment.Id}'.", [nameof(Experiments)]);
            }

            if (!surfaces.Add(experiment.Surface))
            {
                yield return new ValidationResult($"Serving:Experiments: two experiments run on surface '{experiment.Surface}'; one surface runs one experiment at a time.", [nameof(Experiments)]);
            }
        }
    }
}

/// <summary>Settings of one surface (<c>Lasthope:Serving:Surfaces:NAME</c>).</summary>
public sealed class SurfaceOptions
{
    public static SurfaceOptions Default { get; } = new();

    /// <summary>K for this surface; default Serving:RerankDepth.</summary>
    public int? RerankDepth { get; init; }

    /// <summary>Budget for this surface; default Serving:BudgetMs.</summary>
    public double? BudgetMs { get; init; }

    /// <summary>Request-supplied item features (by name) that this surface's models may use besides the built-in ones.</summary>
    public IList<string> RequestFeatures { get; init; } = [];

    /// <summary>This surface's exploration policy; off by default.</summary>
    public ExplorationOptions? Exploration { get; init; }

    /// <summary>Numeric item attributes (by name, from <c>POST /v1/items</c>) that this surface's models may use, as <c>item.NAME</c>; logged with the built-in features.</summary>
    public IList<string> ItemFeatures { get; init; } = [];

    /// <summary>Offer the user-history features (the user's recent clicks, overall, on the candidate, in its category). Default false.</summary>
    public bool UserHistoryFeatures { get; init; }

    /// <summary>The problems of this surface's settings, named after the surface.</summary>
    public IEnumerable<ValidationResult> Validate(string name)
    {
        if (RerankDepth is < 0)
        {
            yield return new ValidationResult($"Serving:Surfaces:{name}:RerankDepth must not be negative.", ["Surfaces"]);
        }

        if (BudgetMs is { } b && (!double.IsFinite(b) || b <= 0 || b > 60_000))
        {
            yield return new ValidationResult($"Serving:Surfaces:{name}:BudgetMs must be in (0, 60000].", ["Surfaces"]);
        }

        foreach (var problem in Exploration?.Validate($"Serving:Surfaces:{name}:Exploration") ?? [])
        {
            yield return problem;
        }

        if (ItemFeatures.FirstOrDefault(f => !ItemAttributeNames.IsValid(f)) is { } bad)
        {
            yield return new ValidationResult($"Serving:Surfaces:{name}:ItemFeatures: '{Ids.Printable(bad)}' is not an attribute name ({ItemAttributeNames.Rule}).", ["Surfaces"]);
        }

        if (ItemFeatures.Count > ItemAttributeNames.MaxPerItem)
        {
            yield return new ValidationResult($"Serving:Surfaces:{name}:ItemFeatures: at most {ItemAttributeNames.MaxPerItem}.", ["Surfaces"]);
        }
    }
}

/// <summary>Stops calling a failing model for a while (<c>Lasthope:Serving:CircuitBreaker</c>).</summary>
public sealed class CircuitBreakerOptions : IValidatableObject
{
    /// <summary>Consecutive model or feature errors that open the circuit. Default 5.</summary>
    public int FailureThreshold { get; init; } = 5;

    /// <summary>How long the circuit stays open before one trial request is let through. Default 10 s.</summary>
    public double OpenSeconds { get; init; } = 10;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (FailureThreshold < 1 || !double.IsFinite(OpenSeconds) || OpenSeconds <= 0)
        {
            yield return new ValidationResult("Serving:CircuitBreaker:FailureThreshold must be at least 1 and OpenSeconds positive.", [nameof(FailureThreshold)]);
            yield break;
        }
    }
}

/// <summary>The alarm that was missing in the original story (<c>Lasthope:Serving:FallbackAlarm</c>).</summary>
public sealed class FallbackAlarmOptions : IValidatableObject
{
    /// <summary>The sliding window, in seconds. Default 60.</summary>
    public int WindowSeconds { get; init; } = 60;

    /// <summary>Readiness is degraded when more than this fraction of model-path requests fell back. Default 0.05.</summary>
    public double Threshold { get; init; } = 0.05;

    /// <summary>Fewer model-path requests than this in the window never raise the alarm. Default 20.</summary>
    public int MinRequests { get; init; } = 20;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (WindowSeconds is < 1 or > 3600 || !double.IsFinite(Threshold) || Threshold is < 0 or > 1 || MinRequests < 0)
        {
            yield return new ValidationResult("Serving:FallbackAlarm: WindowSeconds in [1, 3600], Threshold in [0, 1], MinRequests >= 0.", [nameof(WindowSeconds)]);
            yield break;
        }
    }
}

/// <summary>
/// Adds latency or errors to the model or feature stage for a fraction of requests (<c>Lasthope:Serving:FaultInjection</c>).
/// Off by default. For tests, load tests and drills. Which requests are hit is a deterministic function of the request
/// id and <see cref="Seed"/>.
/// </summary>
public sealed class FaultInjectionOptions : IValidatableObject
{
    public double ModelLatencyMs { get; init; }

    public double ModelLatencyFraction { get; init; }

    public double ModelErrorFraction { get; init; }

    /// <summary>A slow model: latency added after every block of 64 scored documents, for this fraction of requests.</summary>
    public double ModelBlockLatencyMs { get; init; }

    public double ModelBlockLatencyFraction { get; init; }

    public double FeatureLatencyMs { get; init; }

    public double FeatureLatencyFraction { get; init; }

    public double FeatureErrorFraction { get; init; }

    public int Seed { get; init; } = 1;

    public bool Enabled => (ModelLatencyMs > 0 && ModelLatencyFraction > 0) || ModelErrorFraction > 0 || (ModelBlockLatencyMs > 0 && ModelBlockLatencyFraction > 0) || (FeatureLatencyMs > 0 && FeatureLatencyFraction > 0) || FeatureErrorFraction > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var f in new[] { ModelLatencyFraction, ModelErrorFraction, ModelBlockLatencyFraction, FeatureLatencyFraction, FeatureErrorFraction })
        {
            if (!double.IsFinite(f) || f is < 0 or > 1)
            {
                yield return new ValidationResult("Serving:FaultInjection fractions must be in [0, 1].", [nameof(ModelLatencyFraction)]);
                yield break;
            }
        }

        if (!double.IsFinite(ModelLatencyMs) || ModelLatencyMs < 0 || !double.IsFinite(FeatureLatencyMs) || FeatureLatencyMs < 0 || !double.IsFinite(ModelBlockLatencyMs) || ModelBlockLatencyMs < 0)
        {
            yield return new ValidationResult("Serving:FaultInjection latencies must be non-negative.", [nameof(ModelLatencyMs)]);
            yield break;
        }
    }
}

/// <summary>An experiment: users split into arms by a hash of user id and salt (<c>Lasthope:Serving:Experiments</c>).</summary>
public sealed class ExperimentOptions : IValidatableObject
{
    public string Id { get; init; } = "";

    /// <summary>Changes the assignment; a new salt reshuffles users. Default: the id.</summary>
    public string? Salt { get; init; }

    /// <summary>The surface it runs on.</summary>
    public string Surface { get; init; } = "default";

    public IList<ArmOptions> Arms { get; init; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!ConfiguredName.IsValid(Id) || !ConfiguredName.IsValid(Surface))
        {
            yield return new ValidationResult("Serving:Experiments: every experiment needs an Id and a Surface of 1 to 64 letters, digits, '_', '.', ':' or '-'.", [nameof(Id)]);
            yield break;
        }

        if (Arms.Count < 1 || Arms.Any(a => !ConfiguredName.IsValid(a.Name) || !double.IsFinite(a.Weight) || a.Weight <= 0 || a.RerankDepth is < 0))
        {
            yield return new ValidationResult($"Serving:Experiments:{Id}: arms need a name (letters, digits, '_', '.', ':' or '-'), a positive weight and a non-negative depth.", [nameof(Arms)]);
            yield break;
        }

        foreach (var problem in Arms.SelectMany(a => a.Exploration?.Validate($"Serving:Experiments:{Id}:Arms:{a.Name}:Exploration") ?? []))
        {
            yield return problem;
        }

        if (Arms.Select(a => a.Name).Distinct(StringComparer.Ordinal).Count() != Arms.Count)
        {
            yield return new ValidationResult($"Serving:Experiments:{Id}: arm names must be distinct.", [nameof(Arms)]);
            yield break;
        }
    }
}

/// <summary>One arm: the heuristic only (no model), or model version X with depth K.</summary>
public sealed class ArmOptions
{
    public string Name { get; init; } = "";

    /// <summary>Relative share of users. Default 1.</summary>
    public double Weight { get; init; } = 1;

    /// <summary>"heuristic" for the heuristic only; else a model version, or "active" for the surface's active model.</summary>
    public string Policy { get; init; } = "heuristic";

    /// <summary>K for this arm; default the surface's.</summary>
    public int? RerankDepth { get; init; }

    /// <summary>This arm's exploration policy; default the surface's.</summary>
    public ExplorationOptions? Exploration { get; init; }
}

/// <summary>
/// Exploration (<c>Serving:Surfaces:NAME:Exploration</c>, or per arm): on <see cref="Fraction"/> of requests (chosen by
/// a hash of the request id), the first <see cref="Top"/> positions of the served list are shuffled uniformly. An item
/// whose unexplored position p is within the top n is then at p with probability (1 - ε) + ε/n and at any other of
/// the top n positions with probability ε/n; every served item logs that propensity, explored request or not.
/// </summary>
public sealed class ExplorationOptions
{
    /// <summary>ε, the share of requests explored, in [0, 1]. Default 0 (off).</summary>
    public double Fraction { get; init; }

    /// <summary>
    /// n, how many leading items of the list an explored request draws its shown items from, 2 to 1,000 (above the
    /// served count it shows items from deeper in the list). Default 10.
    /// </summary>
    public int Top { get; init; } = 10;

    /// <summary>
    /// L, how many leading items of the unexplored list an explored request logs the features of (with its shown
    /// items'), 0 to 300; min(L, n') are logged. With them a candidate policy that re-ranks that top L can be evaluated
    /// off-policy from the log (<c>lasthope ope --policy model</c>, <c>retrain</c>): its list is recomputed, and a
    /// logged (item, position) counts when the candidate puts that item there. The cost is L rows of features per
    /// explored request in the log. Default 30.
    /// </summary>
    public int LogTop { get; init; } = 30;

    /// <summary>The problems of these settings, named under <paramref name="prefix"/>.</summary>
    public IEnumerable<ValidationResult> Validate(string prefix)
    {
        if (!(Fraction >= 0 && Fraction <= 1))
        {
            yield return new ValidationResult($"{prefix}:Fraction must be in [0, 1].", [nameof(Fraction)]);
        }

        if (Top is < 2 or > 1_000)
        {
            yield return new ValidationResult($"{prefix}:Top must be in [2, 1000].", [nameof(Top)]);
        }

        if (LogTop is < 0 or > 300)
        {
            yield return new ValidationResult($"{prefix}:LogTop must be in [0, 300].", [nameof(LogTop)]);
        }
    }
}
