namespace Lasthope.Cli.Reliability;

/// <summary>What the reliability suite runs, and how much of it. <see cref="Quick"/> gives the CI sizes (about a minute).</summary>
public sealed record ReliabilityOptions
{
    /// <summary>The drills, in the order they run.</summary>
    public static IReadOnlyList<string> AllDrills { get; } = ["fuzz", "kills", "slow", "upload", "restart"];

    public IReadOnlyList<string> Drills { get; init; } = AllDrills;

    /// <summary>Hostile requests of the fuzz drill.</summary>
    public int Requests { get; init; } = 10_000;

    /// <summary>SIGKILLs of the kill drill.</summary>
    public int Kills { get; init; } = 100;

    /// <summary>Connections that trickle their body during the slow-client drill.</summary>
    public int SlowConnections { get; init; } = 200;

    /// <summary>How long the slow-client drill probes while the slow connections are open.</summary>
    public TimeSpan SlowProbeDuration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Garbage bytes of each parallel upload of the upload drill.</summary>
    public long UploadBytes { get; init; } = 500L * 1024 * 1024;

    public int ParallelUploads { get; init; } = 4;

    /// <summary>The model-size limit the drills configure (Lasthope:Limits:MaxModelBytes, the server's default).</summary>
    public long MaxModelBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Random-Unicode rank requests of the restart drill.</summary>
    public int UnicodeRequests { get; init; } = 50;

    /// <summary>Every generator is seeded from this.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Where the drills make their temporary data directories (default: the system's temporary directory).</summary>
    public string? DataRoot { get; init; }

    /// <summary>
    /// A PostgreSQL connection string: the drills' servers then keep their store there (each drill in the database as
    /// it is given), and the kill drill runs a second replica beside the one it kills, whose counters must converge.
    /// Null: the embedded store.
    /// </summary>
    public string? Postgres { get; init; }

    /// <summary>A request with no answer within this long counts as a hang.</summary>
    public TimeSpan HangAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The sizes of the short run that CI makes.</summary>
    public static ReliabilityOptions QuickDefaults { get; } = new()
    {
        Requests = 2_000,
        Kills = 10,
        // All 200 slow connections even in the short run: fewer would not fill the serving door of a 2-core
        // server (64 requests per core), and the short run would miss what the drill is there to find.
        SlowProbeDuration = TimeSpan.FromSeconds(8),
        UploadBytes = 96L * 1024 * 1024,
        UnicodeRequests = 20,
    };
}
