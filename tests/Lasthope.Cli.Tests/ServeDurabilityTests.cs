using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Lasthope.Cli.Tests;

/// <summary>The real executable, the real store, a real SIGKILL.</summary>
public class ServeDurabilityTests
{
    [Fact]
    public async Task AcknowledgedEvents_SurviveASigkill_AndCountTheSameAfterRestart()
    {
        var data = CliHarness.TempDirectory();
        var port = FreePort();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var server = StartServer(data, port);
        try
        {
            await WaitUntilLiveAsync(client, server);
            var accepted = 0;
            for (var batch = 0; batch < 20; batch++)
            {
                var events = Enumerable.Range(0, 50).Select(i => new { eventId = $"e{batch}-{i}", itemId = $"item{i % 7}", userId = $"u{i}" }).ToArray();
                using var response = await client.PostAsJsonAsync("/v1/events", new { events }, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                accepted += (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("accepted").GetInt32();
            }

            // Kill at once, with no chance to flush or shut down cleanly.
            server.Kill();
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(1000, accepted);

            server = StartServer(data, port);
            await WaitUntilLiveAsync(client, server);
            var status = await client.GetFromJsonAsync<JsonElement>("/v1/status", TestContext.Current.CancellationToken);
            Assert.Equal(accepted, status.GetProperty("events").GetInt64());
            // The served process runs its collector without blocking full collections (Serving:SustainedLowLatencyGc).
            Assert.Equal("SustainedLowLatency", status.GetProperty("runtime").GetProperty("gcLatencyMode").GetString());
            var clicks = 0.0;
            for (var i = 0; i < 7; i++)
            {
                var stats = await client.GetFromJsonAsync<JsonElement>($"/v1/items/item{i}/stats", TestContext.Current.CancellationToken);
                clicks += stats.GetProperty("overall").GetProperty("clicks7d").GetDouble();
            }

            Assert.Equal(accepted, clicks);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
                await server.WaitForExitAsync(CancellationToken.None);
            }

            server.Dispose();
            Directory.Delete(data, recursive: true);
        }
    }

    private static Process StartServer(string data, int port)
    {
        var executable = Path.Combine(AppContext.BaseDirectory, "lasthope.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { executable, "serve", "--data", data, "--urls", $"http://127.0.0.1:{port}", "--log-level", "Warning" })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilLiveAsync(HttpClient client, Process server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(server.HasExited, $"the server exited with code {(server.HasExited ? server.ExitCode : 0)}");
            try
            {
                using var response = await client.GetAsync("/health/live");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail("the server did not start within 60 s");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
