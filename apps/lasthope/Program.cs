using Lasthope.Cli;

return await LasthopeCli.RunAsync(args, CliContext.FromProcess());
