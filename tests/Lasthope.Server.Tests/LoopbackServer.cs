using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Core.Storage;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
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
        IDictionary<string, string?>? settings = null, IEventStore? store = null, string? dataDirectory = null, FakeTimeProvider? clock = null)
    {
        var directory = dataDirectory ?? NewDataDirectory();
        clock ??= new FakeTimeProvider(DefaultNow);
        var server = await LasthopeServer.StartAsync(new ServerSetup
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = directory,
            Settings = settings ?? new Dictionary<string, string?>(),
            Time = clock,
            Store = store,
        });
        return new LoopbackServer(server, clock, directory, ownsDirectory: dataDirectory is null);
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
