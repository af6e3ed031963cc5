using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Core.Storage;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Lasthope.Server.State;
using Lasthope.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lasthope.Server.Tests;

/// <summary>
/// A real Lasthope server on a free loopback port, with an HttpClient pointed at it. The clock is fake so that
/// counters' windows are deterministic; the store is the embedded SQLite store in a temporary directory unless a test
/// passes another.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    public static readonly DateTimeOffset DefaultNow = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private LoopbackServer(LasthopeServer server, FakeTimeProvider clock, string dataDirectory, bool ownsDirectory)
    {
        Server = server;
        Clock = clock;
        DataDirectory = dataDirectory;
        OwnsDirectory = ownsDirectory;
        Client = new HttpClient { BaseAddress = server.BaseAddress };
    }

    public LasthopeServer Server { get; }

    public FakeTimeProvider Clock { get; }

    public HttpClient Client { get; }

    public string DataDirectory { get; }

    private bool OwnsDirectory { get; set; }

    public IEventStore Store => Server.Services.GetRequiredService<IEventStore>();

    public CounterState State => Server.Services.GetRequiredService<CounterState>();

    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "lasthope-test-" + Guid.NewGuid().ToString("N"));

    public static async Task<LoopbackServer> StartAsync(
        IDictionary<string, string?>? settings = null, IEventStore? store = null, string? dataDirectory = null, FakeTimeProvider? clock = null,
        Action<IServiceCollection>? services = null)
    {
        var directory = dataDirectory ?? NewDataDirectory();
        clock ??= new FakeTimeProvider(DefaultNow);
        var server = await LasthopeServer.StartAsync(new ServerSetup
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = directory,
            Settings = Unhurried(settings),
            Time = clock,
            Store = store,
            ConfigureServices = s =>
            {
                s.AddSqliteEventStore();
                services?.Invoke(s);
            },
            // Tests provoke failures on purpose (injected faults, timeouts); their warnings would bury a real
            // failure's report in CI's output.
            MinimumLogLevel = LogLevel.Error,
        });
        return new LoopbackServer(server, clock, directory, ownsDirectory: dataDirectory is null);
    }

    /// <summary>The surfaces the tests rank on, declared on every test server (the set of surfaces is closed).</summary>
    public static readonly string[] TestSurfaces = ["home", "warm", "rerank-block", "shop", "faults", "metrics-test"];

    /// <summary>The budget of a test server's requests unless a test sets its own.</summary>
    public const double UnhurriedBudgetMs = 3000;

    /// <summary>
    /// Deadlines are the subject of the tests that set them. Every other test wants the model path to answer, and with
    /// the production budget (80 ms) and queue limit (10 ms) a CPU-starved test machine sheds its requests as
    /// "overload" or "timeout" (seen in CI), so a test server is unhurried unless the test says otherwise.
    /// </summary>
    private static Dictionary<string, string?> Unhurried(IDictionary<string, string?>? settings)
    {
        var unhurried = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
        var budget = UnhurriedBudgetMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        unhurried.TryAdd("Lasthope:Serving:BudgetMs", budget);
        unhurried.TryAdd("Lasthope:Serving:ShedModelAboveWaitMs", budget);
        unhurried.TryAdd("Lasthope:Recommend:BudgetMs", budget);
        // Tests swap models and post events as fast as they can; the per-client limits have tests of their own.
        unhurried.TryAdd("Lasthope:Security:RateLimits:AdminPerSecond", "0");
        unhurried.TryAdd("Lasthope:Security:RateLimits:EventsPerSecond", "0");
        foreach (var surface in TestSurfaces)
        {
            unhurried.TryAdd($"Lasthope:Serving:Surfaces:{surface}", "");
        }

        return unhurried;
    }

    /// <summary>Stops this server but keeps its data directory, for a restart test.</summary>
    public async Task StopKeepingDataAsync()
    {
        OwnsDirectory = false;
        await DisposeAsync();
    }

    public async Task<JsonElement> RankAsync(object request)
    {
        using var response = await Client.PostAsJsonAsync("/v1/rank", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"rank failed: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<JsonElement> PostEventsAsync(params object[] events)
    {
        using var response = await Client.PostAsJsonAsync("/v1/events", new { events });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"events failed: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public Task FlushAsync() => Server.Services.GetRequiredService<ImpressionLog>().FlushAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        if (OwnsDirectory)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
