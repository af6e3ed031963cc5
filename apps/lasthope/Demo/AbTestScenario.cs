using System.Globalization;
using System.Net.Http.Json;
using Lasthope.Cli.Load;
using Lasthope.Client;
using Lasthope.Evaluation;
using Lasthope.Server.Experiments;
using Lasthope.Server.Hosting;
using Lasthope.Simulation;
using Lasthope.Training;

namespace Lasthope.Cli.Demo;

/// <summary>Settings of <c>lasthope demo --scenario ab-test</c>.</summary>
public sealed record AbTestOptions
{
    public int Seed { get; init; } = 42;

    /// <summary>Days of history served with exploration, which the model is trained on.</summary>
    public int HistoryDays { get; init; } = 21;

    /// <summary>Days of each experiment phase (K = 1000, then K = 300).</summary>
    public int PhaseDays { get; init; } = 3;

    public int RequestsPerDay { get; init; } = 4_000;

    public int Candidates { get; init; } = 1_000;

    /// <summary>Requests in flight: the load under which the budget is calibrated and the phases run (default: one per core).</summary>
    public int Concurrency { get; init; } = Environment.ProcessorCount;

    /// <summary>ε and n of the history's exploration.</summary>
    public double ExplorationFraction { get; init; } = 0.5;

    public int ExplorationTop { get; init; } = 300;

    /// <summary>
    /// The model: a bagged ensemble of <see cref="Bags"/> small LambdaMARTs over the built-in features, the items'
    /// attributes and the users' history. Small members because larger ones overfit the explored history, and such a
    /// member gains nothing from depth past 300 (docs/models.md); many of them so that scoring 1,000 candidates costs
    /// this machine what the talk's model cost relative to its budget.
    /// </summary>
    public int Trees { get; init; } = 100;

    public int Leaves { get; init; } = 15;

    public double LearningRate { get; init; } = 0.05;

    public int MinDataInLeaf { get; init; } = 100;

    /// <summary>Members of the bagged ensemble (each on a bootstrap sample of the explored queries).</summary>
    public int Bags { get; init; } = 50;

    /// <summary>Post the items' attributes and offer them and the user-history features to the model.</summary>
    public bool ItemFeatures { get; init; } = true;

    /// <summary>Requests of the closing depth study.</summary>
    public int DepthRequests { get; init; } = 300;

    public string? DataDirectory { get; init; }

    public void Validate()
    {
        if (HistoryDays is < 1 or > 60 || PhaseDays is < 1 or > 30 || RequestsPerDay is < 10 or > 100_000 || Candidates is < 1_000 or > 10_000
            || Concurrency is < 1 or > 64 || Trees is < 1 or > 20_000 || Leaves is < 2 or > 255 || Bags is < 1 or > 100 || DepthRequests is < 20 or > 10_000)
        {
            throw new ArgumentException("ab-test: history days 1-60, phase days 1-30, requests per day 10-100,000, candidates 1,000-10,000, concurrency 1-64, trees 1-20,000, leaves 2-255, bags 1-100, depth requests 20-10,000.");
        }
    }
}

/// <summary>An estimate with its interval as [lower, upper].</summary>
public sealed record EstimateWithCi(double Estimate, double[] Ci)
{
    public static EstimateWithCi Of(Interval i) => new(i.Estimate, [i.Lower, i.Upper]);
}

/// <summary>One arm of a phase: how it was assigned, what served it, and its CTR.</summary>
public sealed record AbTestArm(string Arm, int Users, int Requests, EstimateWithCi Ctr, double FallbackShare, double PartialShare);

/// <summary>The sample-ratio test of a phase.</summary>
public sealed record AbTestSrm(double ChiSquare, double PValue, bool Alarm);

/// <summary>The fallback-skew alarm of a phase.</summary>
public sealed record AbTestSkew(string? Arm, double FallbackShare, double PartialShare, double Threshold, bool Alarm);

/// <summary>One experiment phase: heuristic against the model at one re-rank depth, under the calibrated budget.</summary>
public sealed record AbTestPhase(
    string Experiment, int RerankDepth, double BudgetMs, IReadOnlyList<AbTestArm> Arms, EstimateWithCi Itt, AbTestSrm Srm, AbTestSkew FallbackSkew,
    string Verdict, LatencySummary ServerLatency);

/// <summary>How the budget was chosen: the server's own total time per request at each depth on the calibration day, with no deadline.</summary>
public sealed record AbTestCalibration(LatencySummary K300, LatencySummary K1000, double K1000P30, double BudgetMs, bool Separable);

/// <summary>What the scenario measured.</summary>
public sealed record AbTestResult(
    string Model, int ModelTrees, int TrainingQueries, int Concurrency, AbTestCalibration Calibration, IReadOnlyList<AbTestPhase> Phases,
    IReadOnlyList<DepthResult> DepthStudy, string DataDirectory, double Seconds);

/// <summary>
/// The talk as a demo. History is served with exploration; a model is trained on the explored traffic; then an
/// experiment, heuristic against the model, runs at K = 1000 and again at K = 300, and each is read out; a depth study
/// closes. Nothing is injected: the model times out because scoring 1,000 candidates takes longer than the budget,
/// which is set from a calibration day run like the phases (<see cref="CalibrateAsync"/>: K = 1000's median, on
/// whatever machine it runs). The phases use a 1 ms response reserve instead of the default 5 ms, because the whole
/// budget here is a few milliseconds.
/// </summary>
public sealed class AbTestScenario(AbTestOptions options)
{
    public const string Surface = "home";
    private const double ResponseReserveMs = 1;

    public async Task<AbTestResult> RunAsync(Action<string>? stage = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var wall = System.Diagnostics.Stopwatch.StartNew();
        var data = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"lasthope-abtest-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        var generator = new TrafficGenerator(DemoRunner.Simulation(options.Seed, options.RequestsPerDay, options.Candidates));

        // 1. History with exploration.
        stage?.Invoke($"history: {options.HistoryDays} days with {options.ExplorationFraction:P0} of requests explored over the top {options.ExplorationTop}");
        await Demo(0, options.HistoryDays, new Dictionary<string, string?>
        {
            [$"Lasthope:Serving:Surfaces:{Surface}:Exploration:Fraction"] = options.ExplorationFraction.ToString(CultureInfo.InvariantCulture),
            [$"Lasthope:Serving:Surfaces:{Surface}:Exploration:Top"] = options.ExplorationTop.ToString(CultureInfo.InvariantCulture),
        }, data, cancellationToken);

        // 2. A model trained on the explored traffic, activated.
        stage?.Invoke($"training {options.Bags} x {options.Trees} trees of {options.Leaves} leaves on the explored traffic");
        RankerTrainingReport trained;
        var serverOptions = LasthopeServer.LoadOptions(new ServerSetup { DataDirectory = data, Settings = WithFeatures(new Dictionary<string, string?>()) });
        await using (var store = await CliStores.OpenAsync(serverOptions, cancellationToken))
        {
            trained = await new RankerTraining(store, serverOptions.Serving).TrainAsync(
                new RankerTrainingRequest
                {
                    Surface = Surface, Trees = options.Trees, Leaves = options.Leaves, LearningRate = options.LearningRate, MinDataInLeaf = options.MinDataInLeaf,
                    Traffic = TrainingTraffic.Explored, Days = options.HistoryDays + 1, Threads = Environment.ProcessorCount, Seed = options.Seed, Bags = options.Bags, Activate = true,
                },
                cancellationToken: cancellationToken);
        }

        // 3. The budget, from a calibration day served like the phases, without a deadline.
        stage?.Invoke("calibrating the budget");
        var calibration = await CalibrateAsync(data, generator, cancellationToken);

        // 4. The experiment at K = 1000, then at K = 300, each on its own days (after the calibration day).
        var phases = new List<AbTestPhase>();
        var day = options.HistoryDays + 1;
        foreach (var depth in new[] { 1_000, 300 })
        {
            stage?.Invoke($"experiment at K = {depth}, budget {calibration.BudgetMs:F2} ms");
            phases.Add(await PhaseAsync(data, day, depth, calibration.BudgetMs, generator, cancellationToken));
            day += options.PhaseDays;
        }

        // 5. The depth study, without a deadline, on the last day's requests.
        stage?.Invoke("depth study");
        var study = await WithServerAsync(data, generator.StartOfDay(day), WithFeatures(Generous()), server => new DepthStudy(new DepthStudyOptions
        {
            Url = server.BaseAddress, Depths = [0, 300, 1_000], Requests = options.DepthRequests, Candidates = options.Candidates, Surface = Surface,
            Seed = options.Seed, RequestsPerDay = options.RequestsPerDay, Day = day - 1,
        }).RunAsync(cancellationToken: cancellationToken));
        return new AbTestResult(
            trained.Registered?.Version ?? "", trained.TreesKept, trained.QueriesUsed, options.Concurrency, calibration, phases, study, data, wall.Elapsed.TotalSeconds);
    }

    private async Task<DemoResult> Demo(int firstDay, int days, IDictionary<string, string?> settings, string data, CancellationToken cancellationToken) =>
        await new DemoRunner(new DemoOptions
        {
            Seed = options.Seed, FirstDay = firstDay, Days = days, RequestsPerDay = options.RequestsPerDay, CandidatesPerRequest = options.Candidates,
            Surface = Surface, Concurrency = options.Concurrency, DataDirectory = data, Settings = WithFeatures(new Dictionary<string, string?>(settings)), PostItems = options.ItemFeatures,
        }).RunAsync(cancellationToken: cancellationToken);

    /// <summary>The surface's item-attribute and user-history features added to <paramref name="settings"/>, when the scenario uses them.</summary>
    private IDictionary<string, string?> WithFeatures(IDictionary<string, string?> settings)
    {
        if (options.ItemFeatures)
        {
            settings[$"Lasthope:Serving:Surfaces:{Surface}:ItemFeatures:0"] = "price";
            settings[$"Lasthope:Serving:Surfaces:{Surface}:ItemFeatures:1"] = "quality_signal";
            settings[$"Lasthope:Serving:Surfaces:{Surface}:UserHistoryFeatures"] = "true";
        }

        return settings;
    }

    /// <summary>
    /// One calibration day under the phases' own conditions: the same traffic, load, click posting and impression log,
    /// with three arms (the heuristic, the model at K = 300, the model at K = 1000) and no deadline. The budget is
    /// K = 1000's median total time: half of K = 1000's requests cannot be re-ranked in full within it, while
    /// K = 300 has room as long as its p99 stays below that median (<see cref="AbTestCalibration.Separable"/>).
    /// </summary>
    private async Task<AbTestCalibration> CalibrateAsync(string data, TrafficGenerator generator, CancellationToken cancellationToken)
    {
        var day = options.HistoryDays;
        var settings = Generous();
        Experiment(settings, "calibration", ("control", null), ("k300", 300), ("k1000", 1_000));
        await Demo(day, 1, settings, data, cancellationToken);
        var times = new Dictionary<string, List<double>>(StringComparer.Ordinal) { ["k300"] = [], ["k1000"] = [] };
        var serverOptions = LasthopeServer.LoadOptions(new ServerSetup { DataDirectory = data });
        await using (var store = await CliStores.OpenAsync(serverOptions, cancellationToken))
        {
            await foreach (var entry in store.ReadLogAsync(generator.StartOfDay(day), cancellationToken))
            {
                if (entry.Ranking is { Experiment: { ExperimentId: "calibration" } arm, TimingsMs: { } timings } && times.TryGetValue(arm.Arm, out var list))
                {
                    list.Add(timings.GetValueOrDefault("total"));
                }
            }
        }

        // The first tenth of each arm's requests ran while the JIT tiered the code up.
        double[] Warm(List<double> all) => [.. all.Skip(all.Count / 10).Order()];
        var k300 = LatencySummary.Of([.. Warm(times["k300"])]);
        var k1000 = Warm(times["k1000"]);
        var p30 = k1000[(int)Math.Ceiling(0.3 * k1000.Length) - 1];
        var median = k1000[(k1000.Length - 1) / 2];
        return new AbTestCalibration(k300, LatencySummary.Of([.. k1000]), p30, median, k300.P99 < median);
    }

    /// <summary>Configures one experiment on the surface: each arm the heuristic (depth null) or the active model at a depth.</summary>
    private static void Experiment(IDictionary<string, string?> settings, string id, params (string Name, int? Depth)[] arms)
    {
        settings["Lasthope:Serving:Experiments:0:Id"] = id;
        settings["Lasthope:Serving:Experiments:0:Surface"] = Surface;
        for (var a = 0; a < arms.Length; a++)
        {
            settings[$"Lasthope:Serving:Experiments:0:Arms:{a}:Name"] = arms[a].Name;
            settings[$"Lasthope:Serving:Experiments:0:Arms:{a}:Policy"] = arms[a].Depth is null ? "heuristic" : "active";
            if (arms[a].Depth is { } depth)
            {
                settings[$"Lasthope:Serving:Experiments:0:Arms:{a}:RerankDepth"] = depth.ToString(CultureInfo.InvariantCulture);
            }
        }
    }

    private async Task<AbTestPhase> PhaseAsync(string data, int firstDay, int depth, double budgetMs, TrafficGenerator generator, CancellationToken cancellationToken)
    {
        var id = $"ab-k{depth}";
        var settings = new Dictionary<string, string?>
        {
            ["Lasthope:Serving:BudgetMs"] = (budgetMs + ResponseReserveMs).ToString("R", CultureInfo.InvariantCulture),
            ["Lasthope:Serving:ResponseReserveMs"] = ResponseReserveMs.ToString(CultureInfo.InvariantCulture),

            // The store lookup of a user's segment must fit in the budget too (the default 5 ms can exceed a budget this small).
            ["Lasthope:Serving:StoreLookupTimeoutMs"] = Math.Min(5, budgetMs / 4).ToString("R", CultureInfo.InvariantCulture),
        };
        Experiment(settings, id, ("control", null), ("model", depth));
        var demo = await Demo(firstDay, options.PhaseDays, settings, data, cancellationToken);
        var serverOptions = LasthopeServer.LoadOptions(new ServerSetup { DataDirectory = data, Settings = WithFeatures(settings) });
        await using var store = await CliStores.OpenAsync(serverOptions, cancellationToken);
        var report = await new ExperimentReports(store, serverOptions.Serving).ReadAsync(id, generator.StartOfDay(firstDay), cancellationToken)
            ?? throw new InvalidOperationException($"experiment {id} is not configured");
        var model = report.Arms.First(a => a.Arm == "model");
        return new AbTestPhase(
            id,
            depth,
            budgetMs + ResponseReserveMs,
            [.. report.Arms.Select(a => new AbTestArm(a.Arm, a.Users, a.Requests, EstimateWithCi.Of(a.Ctr), a.FallbackShare, a.PartialShare))],
            EstimateWithCi.Of(model.EffectVsControl!.Value),
            new AbTestSrm(report.SampleRatio.ChiSquare, report.SampleRatio.PValue, report.SampleRatio.Alarm),
            new AbTestSkew(report.FallbackSkew.Arm, report.FallbackSkew.FallbackShare, report.FallbackSkew.PartialShare, report.FallbackSkew.Threshold, report.FallbackSkew.Alarm),
            report.Verdict,
            demo.ServerLatency);
    }

    private static Dictionary<string, string?> Generous() => new()
    {
        ["Lasthope:Serving:BudgetMs"] = "60000",
        ["Lasthope:Serving:ShedModelAboveWaitMs"] = "60000",
        [$"Lasthope:Serving:Surfaces:{Surface}"] = "",
        [$"Lasthope:Serving:Surfaces:{DemoRunner.ReadoutSurface}"] = "",
    };

    /// <summary>Runs <paramref name="work"/> against a server on the data directory whose clock stands at <paramref name="time"/>.</summary>
    private static async Task<T> WithServerAsync<T>(string data, DateTimeOffset time, IDictionary<string, string?> settings, Func<LasthopeServer, Task<T>> work)
    {
        await using var server = await LasthopeServer.StartAsync(new ServerSetup
        {
            Urls = "http://127.0.0.1:0", DataDirectory = data, Time = new SimulatedClock(time), Settings = settings, ConfigureServices = CliStores.Register,
        });
        return await work(server);
    }
}
