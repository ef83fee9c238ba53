return await StepSharp.Cli.StepSharpCli.RunAsync(args);
