using System.Collections;
using System.IO.Compression;
using PgIg.Formats;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace PgIg.Models;

/// <summary>One named tensor of a weights file, as float32 in C order.</summary>
public sealed record NamedTensor(long[] Shape, float[] Values);

/// <summary>
/// The named tensors of a model's weights file: a PyTorch state_dict saved with <c>torch.save(model.state_dict(), f)</c>
/// (read by TorchSharp.PyBridge), a .safetensors file or an .npz whose keys are the parameter names. The format is
/// told by the content, not the extension (.pt and .npz are both zip archives: torch's holds a data.pkl).
/// Every floating-point dtype is converted to float32; integer tensors (batch-norm's num_batches_tracked) too.
/// </summary>
public sealed class StateDict
{
    public string File { get; }
    public string Format { get; }
    public IReadOnlyDictionary<string, NamedTensor> Tensors { get; }

    StateDict(string file, string format, IReadOnlyDictionary<string, NamedTensor> tensors)
    {
        File = file; Format = format; Tensors = tensors;
    }

    public static StateDict Read(string path)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"model.weights: {path} does not exist", path);
        var head = new byte[9];
        using (var s = System.IO.File.OpenRead(path)) head = head[..s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
        if (head.Length >= 4 && head[0] == 0x50 && head[1] == 0x4B && head[2] == 0x03 && head[3] == 0x04)
            return IsTorchZip(path) ? ReadTorch(path) : ReadNpz(path);
        if (head.Length >= 2 && head[0] == 0x80 && head[1] <= 5)
            throw new InvalidDataException($"{path}: a pickle in PyTorch's legacy format (torch < 1.6, or _use_new_zipfile_serialization=False), which cannot be read here; " +
                "re-save it with a current PyTorch: torch.save(torch.load(f), 'weights.pt')");
        if (head.Length == 9 && head[8] == (byte)'{') return ReadSafetensors(path);
        throw new InvalidDataException($"{path}: not a weights file PgIg reads; expected a PyTorch state_dict (torch.save(model.state_dict(), 'weights.pt')), .safetensors or an .npz keyed by parameter name");
    }

    static bool IsTorchZip(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return zip.Entries.Any(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal));
    }

    static StateDict ReadTorch(string path)
    {
        Hashtable table;
        try
        {
            using var stream = System.IO.File.OpenRead(path);
            table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (NotImplementedException e) when (e.Message.Contains("entire model", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: holds a whole pickled model, not its state_dict; save the weights alone: torch.save(model.state_dict(), 'weights.pt')");
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"{path}: cannot read it as a PyTorch state_dict ({e.Message}); save it with torch.save(model.state_dict(), 'weights.pt')");
        }
        var tensors = new SortedDictionary<string, NamedTensor>(StringComparer.Ordinal);
        var nested = new List<string>();
        foreach (DictionaryEntry e in table)
        {
            string key = e.Key as string ?? throw new InvalidDataException($"{path}: a state_dict key is a {e.Key.GetType().Name}, not a string");
            if (e.Value is Tensor t)
            {
                using (t) tensors[key] = ToFloat(t);
            }
            else if (e.Value is IDictionary) nested.Add(key);
        }
        if (tensors.Count == 0)
            throw new InvalidDataException(nested.Count > 0
                ? $"{path}: holds a dict of dicts (keys {string.Join(", ", nested.Select(k => $"'{k}'"))}), e.g. a training checkpoint, not a state_dict; save the model's part alone, e.g. torch.save(checkpoint['{nested[0]}'], 'weights.pt')"
                : $"{path}: holds no tensors; save the weights with torch.save(model.state_dict(), 'weights.pt')");
        return new StateDict(path, "pytorch", tensors);
    }

    static NamedTensor ToFloat(Tensor t)
    {
        using var f = t.to(ScalarType.Float32).contiguous();
        return new NamedTensor(t.shape, f.data<float>().ToArray());
    }

    static StateDict ReadSafetensors(string path)
    {
        Dictionary<string, Tensor> loaded;
        try { loaded = Safetensors.LoadStateDict(path); }
        catch (Exception e)
        {
            throw new InvalidDataException($"{path}: cannot read it as .safetensors ({e.Message})");
        }
        var tensors = new SortedDictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var (key, t) in loaded)
            using (t) tensors[key] = ToFloat(t);
        return new StateDict(path, "safetensors", tensors);
    }

    static StateDict ReadNpz(string path)
    {
        using var npz = new NpzReader(path);
        var tensors = new SortedDictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var key in npz.Keys)
        {
            var shape = npz.ReadHeader(key).Shape;
            tensors[key] = new NamedTensor(shape, npz.ReadFloat32(key, shape));
        }
        return new StateDict(path, "npz", tensors);
    }
}
