Console.Error.WriteLine("stepsharp: commands are being built");
return 0;
