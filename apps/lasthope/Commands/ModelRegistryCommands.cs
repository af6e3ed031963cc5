using System.CommandLine;
using System.Net.Http.Json;
using Lasthope.Client;
using Lasthope.Core.Storage;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Models;
using Lasthope.Server.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope model add|list|activate|deactivate</c>: the model store. With <c>--server URL</c> they go through a running
/// server's API (which swaps the model in at once, after a warm-up); otherwise they work on the data directory (a
/// server reads the active models at its next start).
/// </summary>
internal static class ModelRegistryCommands
{
    public static void AddTo(Command model, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Add(CreateAdd(context));
        model.Add(CreateList(context));
        model.Add(CreateActivate(context));
        model.Add(CreateDeactivate(context));
    }

    private static Option<Uri?> Server() => CommonOptions.Url("--server", "A running server's URL (e.g. http://127.0.0.1:8080): go through its API.");

    private static Command CreateAdd(CliContext context)
    {
        var file = new Argument<FileInfo>("file") { Description = "The model: LightGBM model.txt or XGBoost .json, over the surface's features." };
        var surface = new Option<string>("--surface") { Description = "The surface it serves.", Required = true };
        var version = new Option<string?>("--version") { Description = "A version name (default: surface, time and content hash)." };
        var activate = new Option<bool>("--activate") { Description = "Activate it on the surface." };
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var server = Server();
        var apiKey = CommonOptions.ApiKey();
        var command = new Command("add", "Register a model for a surface; its features must be the built-in features or the surface's request features.") { file, surface, version, activate, data, config, server, apiKey };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var input = parse.GetValue(file)!;
            if (!input.Exists)
            {
                return context.Fail(ExitCodes.NotFound, $"no such file: {input.FullName}");
            }

            var content = await File.ReadAllBytesAsync(input.FullName, cancellationToken);
            if (parse.GetValue(server) is { } url)
            {
                using var client = CommonOptions.Client(url, parse.GetValue(apiKey));
                var query = $"/v1/models?surface={Uri.EscapeDataString(parse.GetValue(surface)!)}&activate={(parse.GetValue(activate) ? "true" : "false")}"
                    + (parse.GetValue(version) is { } v ? $"&version={Uri.EscapeDataString(v)}" : "");
                using var body = new ByteArrayContent(content);
                using var response = await client.PostAsync(query, body, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return context.Fail(ExitCodes.BadInput, $"the server refused the model ({(int)response.StatusCode}): {text}");
                }

                context.Out.WriteLine(text);
                return ExitCodes.Ok;
            }

            return await WithRegistryAsync(parse.GetValue(data)!, parse.GetValue(config), context, async (registry, _) =>
            {
                var record = await registry.RegisterAsync(content, parse.GetValue(surface)!, new ModelMetadata(parse.GetValue(version)), cancellationToken);
                if (parse.GetValue(activate))
                {
                    await registry.ActivateAsync(record.Surface, record.Version, cancellationToken);
                }

                context.Out.WriteLine($"registered {record.Version} ({record.Kind}, {record.FeatureNames.Count} features) for surface {record.Surface}{(parse.GetValue(activate) ? ", active" : "")}");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command CreateList(CliContext context)
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var server = Server();
        var apiKey = CommonOptions.ApiKey();
        var command = new Command("list", "List registered models, newest first, and where each is active.") { data, config, server, apiKey };
        command.SetAction(async (parse, cancellationToken) =>
        {
            ModelInfo[] models;
            if (parse.GetValue(server) is { } url)
            {
                using var client = CommonOptions.Client(url, parse.GetValue(apiKey));
                models = await new LasthopeClient(client).ListModelsAsync(cancellationToken);
            }
            else
            {
                var options = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
                await using var store = await CliStores.OpenAsync(options, cancellationToken);
                var modelStore = (IModelStore)store;
                var active = await modelStore.GetActiveModelsAsync(cancellationToken);
                models = [.. (await modelStore.ListModelsAsync(cancellationToken)).Select(m => new ModelInfo(
                    m.Version, m.Surface, m.Kind, m.FeatureNames, m.Fingerprint, m.RegisteredAt, m.TrainedFrom, m.TrainedTo, m.Parameters, m.Metrics,
                    [.. active.Where(a => a.Value == m.Version).Select(a => a.Key).Order(StringComparer.Ordinal)]))];
            }

            foreach (var m in models)
            {
                context.Out.WriteLine($"{m.Version}\t{m.Kind}\tsurface={m.Surface}\tfeatures={m.Features.Count}\tregistered={m.RegisteredAt:u}\tactive={(m.ActiveOn.Count == 0 ? "-" : string.Join(',', m.ActiveOn))}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateActivate(CliContext context)
    {
        var version = new Argument<string>("version") { Description = "The model version." };
        var surface = new Option<string?>("--surface") { Description = "The surface (default: the one it was registered for)." };
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var server = Server();
        var apiKey = CommonOptions.ApiKey();
        var command = new Command("activate", "Make a registered model the active model of a surface (warm-up, then an atomic swap).") { version, surface, data, config, server, apiKey };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(version)!;
            if (parse.GetValue(server) is { } url)
            {
                using var client = CommonOptions.Client(url, parse.GetValue(apiKey));
                var query = $"/v1/models/{Uri.EscapeDataString(name)}/activate" + (parse.GetValue(surface) is { } s ? $"?surface={Uri.EscapeDataString(s)}" : "");
                using var response = await client.PostAsync(query, null, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return context.Fail(response.StatusCode == System.Net.HttpStatusCode.NotFound ? ExitCodes.NotFound : ExitCodes.BadInput, text);
                }

                context.Out.WriteLine(text);
                return ExitCodes.Ok;
            }

            return await WithRegistryAsync(parse.GetValue(data)!, parse.GetValue(config), context, async (registry, store) =>
            {
                var record = await store.FindModelAsync(name, cancellationToken);
                if (record is null)
                {
                    return context.Fail(ExitCodes.NotFound, $"no model '{name}' is registered");
                }

                await registry.ActivateAsync(parse.GetValue(surface) ?? record.Surface, name, cancellationToken);
                context.Out.WriteLine($"{name} is active on {parse.GetValue(surface) ?? record.Surface} (a running server picks it up at its next start; use --server to swap it in now)");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command CreateDeactivate(CliContext context)
    {
        var surface = new Argument<string>("surface") { Description = "The surface that goes back to the heuristic." };
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var server = Server();
        var apiKey = CommonOptions.ApiKey();
        var command = new Command("deactivate", "Deactivate a surface's model: the heuristic serves it (the rollback when no model was active before).") { surface, data, config, server, apiKey };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(surface)!;
            if (parse.GetValue(server) is { } url)
            {
                using var client = CommonOptions.Client(url, parse.GetValue(apiKey));
                using var response = await client.PostAsync($"/v1/surfaces/{Uri.EscapeDataString(name)}/deactivate", null, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return context.Fail(response.StatusCode == System.Net.HttpStatusCode.NotFound ? ExitCodes.NotFound : ExitCodes.BadInput, text);
                }

                context.Out.WriteLine(text);
                return ExitCodes.Ok;
            }

            return await WithRegistryAsync(parse.GetValue(data)!, parse.GetValue(config), context, async (registry, _) =>
            {
                await registry.ActivateAsync(name, null, cancellationToken);
                context.Out.WriteLine($"{name} is served by the heuristic (a running server picks this up at its next start; use --server to do it now)");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static async Task<int> WithRegistryAsync(string data, string? config, CliContext context, Func<ModelRegistry, IModelStore, Task<int>> work)
    {
        try
        {
            var options = LasthopeServer.LoadOptions(CommonOptions.Setup(data, config));
            await using var store = await CliStores.OpenAsync(options);
            var modelStore = (IModelStore)store;
            var registry = new ModelRegistry(modelStore, options.Serving, new RecentRankings(0), TimeProvider.System, NullLogger.Instance);
            return await work(registry, modelStore);
        }
        catch (ModelRejectedException e)
        {
            return context.Fail(ExitCodes.BadInput, e.Message);
        }
        catch (ArgumentException e)
        {
            return context.Fail(ExitCodes.BadInput, CliContext.Invalid(e));
        }
        catch (StoreUnavailableException e)
        {
            return context.Fail(ExitCodes.Failure, e.Message);
        }
    }
}
