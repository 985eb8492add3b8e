using PgIg.Build;

// Usage: ElfVerneedFix <library.so> [<system libstdc++.so.6>]
// Patches the library in place (it is the build output's copy, never the NuGet cache's).
if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: ElfVerneedFix <library.so> [<system libstdc++.so.6>]");
    return 2;
}
string library = args[0];
string? system = args.Length > 1 ? args[1] : VerneedFixer.FindSystemLibStdCxx();
if (!OperatingSystem.IsLinux() || system is null || !File.Exists(library))
{
    Console.WriteLine($"native-fix: nothing to do for {Path.GetFileName(library)} (not Linux, no system libstdc++ or no library)");
    return 0;
}
try
{
    var target = new ElfVersionNeeds(File.ReadAllBytes(library));
    var systemVersions = new ElfVersionNeeds(File.ReadAllBytes(system)).Definitions;
    var (outcome, log) = VerneedFixer.Fix(target, systemVersions);
    foreach (var line in log) Console.WriteLine($"native-fix: {Path.GetFileName(library)}: {line}");
    if (outcome == FixOutcome.Patched)
    {
        string tmp = library + ".patching";
        File.WriteAllBytes(tmp, target.Image);
        File.Move(tmp, library, overwrite: true);
        Console.WriteLine($"native-fix: patched {library}");
    }
    else if (outcome == FixOutcome.NothingToDo)
        Console.WriteLine($"native-fix: {Path.GetFileName(library)}: system {system} provides every needed version; unchanged");
    return 0;
}
catch (Exception e) when (e is InvalidOperationException or InvalidDataException)
{
    Console.Error.WriteLine($"native-fix: error: {library}: {e.Message}");
    return 1;
}
