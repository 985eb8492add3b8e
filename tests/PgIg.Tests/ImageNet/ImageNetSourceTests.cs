using System.Formats.Tar;
using System.IO.Compression;
using PgIg.Data.ImageNet;
using PgIg.Data.Images;
using Xunit;

namespace PgIg.Tests.ImageNet;

/// <summary>Builds tiny data trees from the fixture photos in a temp folder.</summary>
public sealed class DataTree : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("pgig-imagenet-").FullName;

    public void Dispose() => Directory.Delete(Root, recursive: true);

    static string Photo(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "images", name);

    /// <summary>Copies a fixture photo (bee.jpg by default) to a path relative to the root.</summary>
    public string Put(string relative, string photo = "bee.jpg")
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(Photo(photo), path);
        return path;
    }

    public void Text(string relative, string content)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    // Leaves: id 1 = n01440764, 2 = n01443537, 3 = n00000003; 1001 and 1002 are inner synsets.
    public static readonly (int, string, string, int[])[] Synsets =
    [
        (1, "n01440764", "tench, Tinca tinca", []),
        (2, "n01443537", "goldfish, Carassius auratus", []),
        (1001, "n01439121", "cyprinid", [1, 2]),
        (3, "n00000003", "third leaf", []),
        (1002, "n00000000", "root", [1001, 3]),
    ];

    /// <summary>Devkit with ground truth for val images 1..5: ids 2 1 3 1 2.</summary>
    public string Devkit(string relative = "ILSVRC2012_devkit_t12")
    {
        string dir = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        File.WriteAllBytes(Path.Combine(dir, "data", "meta.mat"), MatV5Writer.MetaMat(Synsets, compress: true));
        File.WriteAllText(Path.Combine(dir, "data", "ILSVRC2012_validation_ground_truth.txt"), "2\n1\n3\n1\n2\n");
        return dir;
    }

    public static string ValName(int k) => $"ILSVRC2012_val_{k:D8}.JPEG";
}

public class ImageNetSourceTests
{
    // Sorted leaf wnids: n00000003 → 0, n01440764 → 1, n01443537 → 2.
    static readonly string[] ExpectedFlatWnids = ["n01443537", "n01440764", "n00000003", "n01440764", "n01443537"];

    static void AssertImageFolderOrder(IReadOnlyList<LabeledImage> images)
    {
        for (int i = 1; i < images.Count; i++)
        {
            var (a, b) = (images[i - 1], images[i]);
            Assert.True(a.ClassIndex < b.ClassIndex || (a.ClassIndex == b.ClassIndex && string.CompareOrdinal(a.Path, b.Path) < 0),
                $"{a.Path} should come after {b.Path}");
        }
    }

    [Fact]
    public void Torchvision_val_layout_is_an_image_folder_sorted_by_wnid_then_name()
    {
        using var t = new DataTree();
        t.Put("val/n01443537/ILSVRC2012_val_00000005.JPEG");
        t.Put("val/n01443537/ILSVRC2012_val_00000001.JPEG", "castle.jpg");
        t.Put("val/n01440764/ILSVRC2012_val_00000004.JPEG");
        t.Put("val/n01440764/extra/deeper.PNG", "elephant.png"); // os.walk recurses
        t.Text("val/n01440764/README.txt", "not an image");
        Directory.CreateDirectory(Path.Combine(t.Root, "val", "n00000001")); // empty class still takes index 0
        t.Text("meta.bin", "torch pickle, unused");

        var info = ImageNetSource.Describe(t.Root);
        Assert.Equal(ImageNetLayout.Torchvision, info.Layout);
        Assert.Equal(new[] { "n00000001", "n01440764", "n01443537" }, info.Classes);
        Assert.Equal(
            new[] { ("ILSVRC2012_val_00000004.JPEG", 1), ("deeper.PNG", 1), ("ILSVRC2012_val_00000001.JPEG", 2), ("ILSVRC2012_val_00000005.JPEG", 2) },
            info.Images.Select(i => (i.FileName, i.ClassIndex)));
        Assert.All(info.Images, i => Assert.Equal(info.Classes[i.ClassIndex], i.Wnid));
        Assert.All(info.Images, i => Assert.True(File.Exists(i.Path)));
        Assert.Equal(info.Images, ImageNetSource.Open(t.Root));

        // The listed files decode (copies of the fixture photos under fake wnids).
        Assert.All(info.Images, i => Assert.True(ImageDecoder.DecodeRgb(i.Path).Width > 0));
    }

    [Fact]
    public void Wnid_folders_given_directly_are_the_torchvision_layout()
    {
        using var t = new DataTree();
        t.Put("n02000000/b.jpeg");
        t.Put("n01000000/a.JPG");
        var info = ImageNetSource.Describe(t.Root);
        Assert.Equal(ImageNetLayout.Torchvision, info.Layout);
        Assert.Equal(new[] { ("a.JPG", "n01000000", 0), ("b.jpeg", "n02000000", 1) }, info.Images.Select(i => (i.FileName, i.Wnid, i.ClassIndex)));
    }

    [Theory]
    [InlineData("ILSVRC2012_img_val/")]
    [InlineData("")]
    public void Flat_files_with_devkit_take_labels_from_the_ground_truth(string folder)
    {
        using var t = new DataTree();
        t.Devkit();
        for (int k = 5; k >= 1; k--) t.Put(folder + DataTree.ValName(k), k % 2 == 0 ? "castle.jpg" : "bee.jpg");
        t.Text(folder + "ILSVRC2012_val_00000001.txt", "ignored");

        var info = ImageNetSource.Describe(t.Root);
        Assert.Equal(ImageNetLayout.DevkitFlat, info.Layout);
        Assert.Equal(new[] { "n00000003", "n01440764", "n01443537" }, info.Classes);
        Assert.Equal(5, info.Images.Count);
        foreach (var image in info.Images)
        {
            int k = ImageNetSource.ValFileNumber(image.FileName)!.Value;
            Assert.Equal(ExpectedFlatWnids[k - 1], image.Wnid);
            Assert.Equal(info.Classes[image.ClassIndex], image.Wnid);
        }
        AssertImageFolderOrder(info.Images);
    }

    [Fact]
    public void Flat_file_beyond_the_ground_truth_is_an_error()
    {
        using var t = new DataTree();
        t.Devkit();
        t.Put("ILSVRC2012_img_val/" + DataTree.ValName(6));
        var e = Assert.Throws<DataSourceException>(() => ImageNetSource.Open(t.Root));
        Assert.Contains("image 6", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Kaggle_layout_reads_the_first_wnid_of_the_prediction_string(bool withMapping)
    {
        using var t = new DataTree();
        const string val = "ILSVRC/Data/CLS-LOC/val/";
        t.Put(val + "ILSVRC2012_val_00000002.JPEG");
        t.Put(val + "ILSVRC2012_val_00000001.JPEG");
        t.Put(val + "ILSVRC2012_val_00000003.JPEG");
        t.Text("LOC_val_solution.csv",
            "ImageId,PredictionString\n" +
            "ILSVRC2012_val_00000002,n01443537 1 2 30 40 n01443537 5 6 70 80\n" +
            "ILSVRC2012_val_00000001,n01440764 10 20 30 40 \n" +
            "ILSVRC2012_val_00000003,n01440764 0 0 9 9\n");
        if (withMapping)
            t.Text("LOC_synset_mapping.txt", "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\nn00000009 unused\n");

        var info = ImageNetSource.Describe(t.Root);
        Assert.Equal(ImageNetLayout.Kaggle, info.Layout);
        int offset = withMapping ? 1 : 0; // n00000009 sorts first when the mapping lists it
        Assert.Equal(
            new[] { ("ILSVRC2012_val_00000001.JPEG", "n01440764", offset), ("ILSVRC2012_val_00000003.JPEG", "n01440764", offset), ("ILSVRC2012_val_00000002.JPEG", "n01443537", offset + 1) },
            info.Images.Select(i => (i.FileName, i.Wnid, i.ClassIndex)));

        File.Delete(Path.Combine(t.Root, val, "ILSVRC2012_val_00000003.JPEG"));
        Assert.Contains("1 of the 3 images", Assert.Throws<DataSourceException>(() => ImageNetSource.Open(t.Root)).Message);
    }

    [Fact]
    public void Any_class_folder_tree_is_accepted()
    {
        using var t = new DataTree();
        t.Put("dogs/b.webp", "castle.jpg");
        t.Put("cats/a.PNG", "elephant.png");
        t.Put("cats/z.Bmp", "castle.jpg");
        t.Text("dogs/notes.md", "x");
        t.Text("loose.jpg", "files at the top are not in any class");
        var info = ImageNetSource.Describe(t.Root);
        Assert.Equal(ImageNetLayout.ImageFolder, info.Layout);
        Assert.Equal(new[] { "cats", "dogs" }, info.Classes);
        Assert.Equal(new[] { ("a.PNG", 0), ("z.Bmp", 0), ("b.webp", 1) }, info.Images.Select(i => (i.FileName, i.ClassIndex)));
    }

    [Fact]
    public void Nothing_found_lists_every_layout_and_the_download_option()
    {
        using var t = new DataTree();
        t.Text("ILSVRC2012_img_val.tar", "not really");
        t.Text("some.txt", "x");
        var e = Assert.Throws<DataSourceException>(() => ImageNetSource.Open(t.Root));
        foreach (var part in new[] { "(a) torchvision", "val/<wnid>/*.JPEG", "(b) flat+devkit", "meta.mat", "ILSVRC2012_validation_ground_truth.txt",
                     "(c) Kaggle", "LOC_val_solution.csv", "(d) image folder", "webp", "--imagenet-key=KEY", "PGIG_IMAGENET_KEY", "ILSVRC2012_img_val.tar" })
            Assert.Contains(part, e.Message);

        Assert.Contains("does not exist", Assert.Throws<DataSourceException>(() => ImageNetSource.Open(Path.Combine(t.Root, "nope"))).Message);

        // Unlabelled ImageNet files are refused rather than read as a one-class image folder.
        t.Put("ILSVRC2012_img_val/" + DataTree.ValName(1));
        Assert.Contains("no devkit", Assert.Throws<DataSourceException>(() => ImageNetSource.Open(t.Root)).Message);

        using var kaggle = new DataTree();
        kaggle.Put("ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_00000001.JPEG");
        Assert.Contains("no LOC_val_solution.csv", Assert.Throws<DataSourceException>(() => ImageNetSource.Open(kaggle.Root)).Message);
    }
}

public class ImageNetDownloadTests
{
    [Fact]
    public void Val_files_use_the_key_in_torchvision_urls_with_their_md5s()
    {
        var files = ImageNetDownload.ValFiles("abc123");
        Assert.Equal(
            new[]
            {
                new DownloadFile("http://www.image-net.org/challenges/LSVRC/2012/abc123/ILSVRC2012_devkit_t12.tar.gz", "ILSVRC2012_devkit_t12.tar.gz", "fa75699e90414af021442c21a62c3abf"),
                new DownloadFile("http://www.image-net.org/challenges/LSVRC/2012/abc123/ILSVRC2012_img_val.tar", "ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622"),
            },
            files);
        Assert.Equal("1d675b47d978889d74fa0da5fadfb00e", ImageNetDownload.TrainArchive.Md5);
        foreach (var bad in new[] { "", "a/b", "..", "a b", "k?x=1" })
            Assert.Throws<ArgumentException>(() => ImageNetDownload.ValFiles(bad));
        Assert.Equal("k1", ImageNetDownload.ResolveKey("  k1 "));
    }

    [Fact]
    public void Md5_check_reads_the_file()
    {
        using var t = new DataTree();
        t.Text("hello.txt", "hello");
        string path = Path.Combine(t.Root, "hello.txt");
        Assert.Equal("5d41402abc4b2a76b9719d911017c592", PgIg.Data.Download.Downloader.Md5OfFile(path));
        Assert.True(ImageNetDownload.HasMd5(path, "5D41402ABC4B2A76B9719D911017C592"));
        Assert.False(ImageNetDownload.HasMd5(path, "fa75699e90414af021442c21a62c3abf"));
        Assert.False(ImageNetDownload.HasMd5(Path.Combine(t.Root, "missing"), "5d41402abc4b2a76b9719d911017c592"));
    }

    [Fact]
    public void Sorting_moves_files_into_wnid_folders_with_the_same_labels_as_the_flat_layout()
    {
        using var t = new DataTree();
        string devkit = t.Devkit();
        for (int k = 1; k <= 5; k++) t.Put("ILSVRC2012_img_val/" + DataTree.ValName(k));
        var flat = ImageNetSource.Open(t.Root).Select(i => (i.FileName, i.Wnid, i.ClassIndex)).ToList();

        int moved = ImageNetDownload.SortValIntoWnidFolders(Path.Combine(t.Root, "ILSVRC2012_img_val"), devkit, Path.Combine(t.Root, "val"));
        Assert.Equal(5, moved);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(t.Root, "ILSVRC2012_img_val")));
        Assert.True(File.Exists(Path.Combine(t.Root, "val", "n00000003", DataTree.ValName(3))));

        var info = ImageNetSource.Describe(t.Root);
        Assert.Equal(ImageNetLayout.Torchvision, info.Layout);
        Assert.Equal(flat, info.Images.Select(i => (i.FileName, i.Wnid, i.ClassIndex)));
    }

    [Fact]
    public void Prepare_extracts_both_archives_and_sorts_once()
    {
        using var src = new DataTree();
        src.Devkit();
        for (int k = 1; k <= 5; k++) src.Put("flat/" + DataTree.ValName(k));

        using var t = new DataTree();
        using (var gz = new GZipStream(File.Create(Path.Combine(t.Root, "ILSVRC2012_devkit_t12.tar.gz")), CompressionLevel.Fastest))
            TarFile.CreateFromDirectory(Path.Combine(src.Root, "ILSVRC2012_devkit_t12"), gz, includeBaseDirectory: true);
        TarFile.CreateFromDirectory(Path.Combine(src.Root, "flat"), Path.Combine(t.Root, "ILSVRC2012_img_val.tar"), includeBaseDirectory: false);

        // Leftovers of an interrupted run: a half-extracted tar and a half-done sort.
        t.Put("ILSVRC2012_img_val.partial/" + DataTree.ValName(9)); // discarded: image 9 has no label
        t.Put("val.partial/n01443537/" + DataTree.ValName(2)); // moved back, then sorted again

        Assert.Equal(5, ImageNetDownload.PrepareVal(t.Root));
        Assert.False(Directory.Exists(Path.Combine(t.Root, "ILSVRC2012_img_val.partial")));
        Assert.False(Directory.Exists(Path.Combine(t.Root, "ILSVRC2012_img_val")));
        Assert.False(Directory.Exists(Path.Combine(t.Root, "val.partial")));
        var images = ImageNetSource.Open(t.Root);
        Assert.Equal(new[] { "n00000003", "n01440764", "n01440764", "n01443537", "n01443537" }, images.Select(i => i.Wnid));
        Assert.Equal(0, ImageNetDownload.PrepareVal(t.Root));

        using var empty = new DataTree();
        Assert.Contains("download it first", Assert.Throws<DataSourceException>(() => ImageNetDownload.PrepareVal(empty.Root)).Message);
    }
}
