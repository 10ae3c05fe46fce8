using MeshActors.Cli;

return await MeshCli.InvokeAsync(args);
