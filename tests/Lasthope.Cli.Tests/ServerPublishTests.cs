using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lasthope.Testing;
using Lasthope.Text;

namespace Lasthope.Cli.Tests;

/// <summary>
/// apps/lasthope-server published as it ships (self-contained, trimmed, linux-x64; scripts/publish-server.sh), once per
/// test run, into a directory of its own that is deleted afterwards.
/// </summary>
public sealed class PublishedServerFixture : IAsyncLifetime
{
    // A cold publish on a loaded 2-core machine: restore, the build of every project it references, then the trimmer.
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(25);

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "lasthope-server-publish-" + Guid.NewGuid().ToString("N"));

    public string Executable => Path.Combine(Directory, "lasthope-server");

    public async ValueTask InitializeAsync()
    {
        var project = Path.Combine(TestData.RepositoryRoot, "apps", "lasthope-server", "lasthope-server.csproj");
        var publish = new Command("dotnet", ["publish", project, "-c", "Release", "-o", Directory, "--disable-build-servers", "-nologo"])
        {
            // The test host's own MSBuild settings (set by `dotnet test`) are not the publish's.
            Environment = System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
                .Where(name => name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(name => name, _ => (string?)null),
        };
        var (exitCode, output) = await ServerProcess.RunAsync(publish, PublishTimeout);
        Assert.True(exitCode == 0 && File.Exists(Executable), $"{publish} exited with code {exitCode}:\n{output[Math.Max(0, output.Length - 4000)..]}");
    }

    public ValueTask DisposeAsync()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>The shipped server: small, and serving the same API as <c>lasthope serve</c>, configured the ASP.NET Core way.</summary>
public sealed partial class ServerPublishTests(PublishedServerFixture published) : IClassFixture<PublishedServerFixture>
{
    // The bar of issue 13: at most 50 MB, read strictly (10^6 bytes, not du -h's MiB).
    private const long MaxPublishBytes = 50_000_000;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task ThePublish_TakesAtMost50MB_OnDisk()
    {
        var du = await ServerProcess.RunToSuccessAsync(new Command("du", ["-s", "-B1", published.Directory]), TimeSpan.FromMinutes(1));
        var bytes = long.Parse(du.Split('\t')[0], CultureInfo.InvariantCulture);
        Assert.True(bytes <= MaxPublishBytes, $"the publish takes {bytes:N0} bytes ({bytes / 1048576.0:0.0} MiB); the bar is {MaxPublishBytes:N0}");
        // What serving never uses stays out: native LightGBM, SkiaSharp, the sentence encoder and ONNX Runtime.
        var files = System.IO.Directory.GetFiles(published.Directory).Select(Path.GetFileName).ToList();
        Assert.DoesNotContain(files, f => f!.Contains("lightgbm", StringComparison.OrdinalIgnoreCase)
            || f.Contains("Skia", StringComparison.OrdinalIgnoreCase)
            || f.Contains("onnxruntime", StringComparison.OrdinalIgnoreCase)
            || f.Contains("MiniLM", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ThePublishedServer_AnswersRank_WithItsSettingsFromTheEnvironmentAndTheCommandLine_ThenStopsCleanly()
    {
        var directory = Path.Combine(Path.GetTempPath(), "lasthope-server-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var data = Path.Combine(directory, "data");
        var command = new Command(published.Executable, ["--urls", "http://127.0.0.1:0", "--data", data, "--Lasthope:Heuristic:WeekWeight=2"])
        {
            Environment = new Dictionary<string, string?> { ["Lasthope__Counters__PriorStrength"] = "100", ["Lasthope__Storage__Backend"] = "sqlite" },
        };
        using var server = ServerProcess.Start(command, shutdownSignal: "TERM", directory);
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(100) };
            await server.WaitUntilReadyAsync(async cancellationToken => await IsReadyAsync(server, client, cancellationToken), StartTimeout, "lasthope-server");

            using var rank = await client.PostAsJsonAsync("/v1/rank", new
            {
                requestId = "r-1",
                user = new { id = "u-42", age = 31, gender = "f" },
                candidates = new[] { "kw-1", "kw-2", "kw-3" },
                count = 2,
            }, TestContext.Current.CancellationToken);
            var ranked = await rank.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            Assert.True(rank.StatusCode == HttpStatusCode.OK, ranked.ToString());
            Assert.Equal("r-1", ranked.GetProperty("requestId").GetString());
            Assert.Equal("heuristic", ranked.GetProperty("servedBy").GetString());
            var items = ranked.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToList();
            Assert.Equal(2, items.Count);
            Assert.All(items, id => Assert.Contains(id, new[] { "kw-1", "kw-2", "kw-3" }));
            // The environment variable and the command-line key both reached the heuristic.
            Assert.Equal("ctr-v1(week=2,trend=0.5,month=0.1,prior=100,debias=off)", ranked.GetProperty("heuristicVersion").GetString());

            var status = await client.GetFromJsonAsync<JsonElement>("/v1/status", TestContext.Current.CancellationToken);
            Assert.Equal("sqlite", status.GetProperty("store").GetString());

            // A text model: its ML.NET baseline loads in the trimmed server, and answers without the sentence encoder.
            using var package = new ByteArrayContent(TextPackage());
            package.Headers.ContentType = new("application/octet-stream");
            using var registered = await client.PostAsync("/v1/models?activate=true", package, TestContext.Current.CancellationToken);
            Assert.True(registered.StatusCode == HttpStatusCode.Created, await registered.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            using var text = await client.PostAsJsonAsync("/v1/text/sentiment", new { text = "shares crash down losses" }, TestContext.Current.CancellationToken);
            var scored = await text.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            Assert.True(text.StatusCode == HttpStatusCode.OK, scored.ToString());
            Assert.Equal("no_model", scored.GetProperty("fallbackReason").GetString());
            Assert.Equal("bearish", scored.GetProperty("predictions")[0].GetProperty("label").GetString());

            await server.SignalAsync("TERM");
            Assert.True(await server.WaitForExitAsync(StopTimeout), $"lasthope-server did not stop within {StopTimeout.TotalSeconds:0} s of SIGTERM:\n{server.OutputTail}");
            Assert.True(server.ExitCode == 0, server.OutputTail);
            Assert.Contains("lasthope-server stopping: flushing the impression log.", server.OutputTail, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(data, "lasthope.db")), "--data did not place the store");
        }
        finally
        {
            if (!server.HasExited)
            {
                await server.KillAsync();
            }

            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Listening (the start line names the port that port 0 got) and ready. The client's base address is set from the
    /// start line, once.
    /// </summary>
    private static async Task<bool> IsReadyAsync(ServerProcess server, HttpClient client, CancellationToken cancellationToken)
    {
        if (client.BaseAddress is null)
        {
            if (ListeningLine().Match(server.OutputTail) is not { Success: true } line)
            {
                return false;
            }

            client.BaseAddress = new Uri(line.Groups["address"].Value);
        }

        try
        {
            using var ready = await client.GetAsync("/health/ready", cancellationToken);
            var report = await ready.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            // The report's body is built by reflection: a trimmed server once answered {}.
            return ready.IsSuccessStatusCode && report.GetProperty("checks").TryGetProperty("store", out _);
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>A baseline-only text model that tells "up" texts from "down" ones (as <c>lasthope train-text --no-encoder</c> would write).</summary>
    private static byte[] TextPackage()
    {
        var texts = new List<string>();
        var labels = new List<double>();
        for (var i = 0; i < 30; i++)
        {
            texts.Add($"shares rally up strongly gains {i}");
            labels.Add(1);
            texts.Add($"shares crash down losses plunge {i}");
            labels.Add(0);
        }

        var baseline = TfIdfBaseline.Train(TextTask.Classify, texts, labels, 2, seed: 1);
        return TextModel.Create("sentiment", TextTask.Classify, ["bearish", "bullish"], 20, baseline, head: null, encoder: null).ToBytes();
    }

    [GeneratedRegex(@"lasthope-server listening on (?<address>http://127\.0\.0\.1:\d+/)")]
    private static partial Regex ListeningLine();
}
