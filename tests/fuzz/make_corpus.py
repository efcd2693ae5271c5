#!/usr/bin/python3
"""Writes the seed corpora under tests/fuzz/corpus/ (standard library only).

The seeds are committed; rerun this only to change them:
    python3 tests/fuzz/make_corpus.py
Each target's folder is rewritten from scratch.
"""
import json
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, files):
    d = os.path.join(CORPUS, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in files.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


# --- fuzz_json: metadata as scripts/export_vgg19.py writes it, plus odd corners
# (the target reads it with src/model/model_metadata.cpp).
def vgg_layer_names(cfg):
    names, block, idx = [], 1, 1
    for v in cfg:
        if v == "M":
            names.append(f"pool{block}")
            block, idx = block + 1, 1
        else:
            names += [f"conv{block}_{idx}", f"relu{block}_{idx}"]
            idx += 1
    return names


VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
             512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
meta = {
    "format": "stylize-vgg/1",
    "architecture": "vgg19",
    "weights": "random",
    "seed": 1,
    "width_divisor": 8,
    "source": "random (Kaiming normal fan_out, seed 1)",
    "mean": [0.485, 0.456, 0.406],
    "std": [0.229, 0.224, 0.225],
    "value_range": [0.0, 1.0],
    "channel_order": "RGB",
    "layers": vgg_layer_names(VGG19_CFG),
    "sha256": "9f2c4d1e" * 8,
    "torch_version": "2.3.1+cpu",
}
imagenet = dict(meta, weights="imagenet", seed=None, width_divisor=1,
                source="torchvision vgg19 IMAGENET1K_V1", channel_order="BGR")
write("fuzz_json", {
    "metadata_random.json": json.dumps(meta, indent=1),
    "metadata_imagenet.json": json.dumps(imagenet),
    "escapes.json": r'{"s":"a\"b\\c\/\b\f\n\r\t\u00e9\ud83d\ude00","n":[-0,1.5e-3,-2E+2,0.1],"t":true,"f":false,"z":null}',
    "nested.json": "[[[{\"a\":[{}]}]],[],{\"\":\"\"}]",
    "number.json": " -12.5e3 ",
    # Metadata the reader must refuse with a ModelError (or accept safely).
    "bad_fields.json": '{"channel_order":"RGBA","std":[0,1,1],"value_range":[1,0],"width_divisor":4097}',
    "loose_numbers.json": '{"mean":[01,.5,1.],"std":[1e999,-0,2]}',
    "deep.json": '{"a":' + "[" * 70 + "]" * 70 + "}",
})

# --- fuzz_options: layer lists and number lists.
write("fuzz_options", {
    "style_layers.txt": "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1",
    "weighted.txt": "relu1_1,relu2_1:0.5, relu3_1 : 0.25",
    "content.txt": "relu4_2",
    "blend.txt": "0.7,0.3",
    "numbers.txt": "1e-3, 2.5E2,0",
    "edge.txt": "relu1_1:1e308,relu2_1:1e308",
})


# --- fuzz_image_header: tiny real images / headers of every supported format.
def png(width, height):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + bytes([(x * 80 + y * 40) % 256 for x in range(width) for _ in range(3)])
                   for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg(width, height, sof=0xC0, extra=b""):
    """Baseline greyscale JPEG whose blocks are all flat grey: one Huffman code
    per table (DC category 0, AC end-of-block), so each 8x8 block is two 0 bits."""
    def seg(marker, body):
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)
    scan = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    scan = scan.replace(b"\xff", b"\xff\x00")
    huff_dc = bytes([0x00]) + bytes([1] + [0] * 15) + bytes([0x00])
    huff_ac = bytes([0x10]) + bytes([1] + [0] * 15) + bytes([0x00])
    return (b"\xff\xd8" + seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00") + extra
            + seg(0xDB, b"\x00" + bytes([1] * 64))
            + seg(sof, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
            + seg(0xC4, huff_dc) + seg(0xC4, huff_ac)
            + seg(0xDA, b"\x01\x01\x00\x00\x3f\x00") + scan + b"\xff\xd9")


def bmp(width, height):
    row = (width * 3 + 3) & ~3
    pixels = b"".join(bytes([0, 128, 255] * width) + b"\x00" * (row - width * 3) for _ in range(abs(height)))
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixels), 0, 0, 14 + len(info)) + info + pixels


# 1x1 GIF89a: two-colour table, one LZW-coded pixel.
gif_1x1 = bytes.fromhex("474946383961010001008000 00ffffff000000 21f90401000000 00"
                        "2c000000000100010000 0202440100 3b".replace(" ", ""))
gif_3x2 = gif_1x1[:6] + struct.pack("<HH", 3, 2) + gif_1x1[10:]


def riff(chunks):
    body = b"WEBP" + chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_chunk(kind, body):
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def vp8l_header(width, height):
    return b"\x2f" + struct.pack("<I", (width - 1) | ((height - 1) << 14))


def vp8_header(width, height):
    # keyframe tag (3 bytes), start code, 14-bit sizes with 2-bit scale.
    return b"\x30\x01\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height)


webp_lossless = riff(webp_chunk(b"VP8L", vp8l_header(5, 3) + b"\x00\x00\x00\x00"))
webp_lossy = riff(webp_chunk(b"VP8 ", vp8_header(7, 4) + b"\x00" * 8))
webp_extended = riff(webp_chunk(b"VP8X", b"\x10\x00\x00\x00" + struct.pack("<I", 299)[:3]
                                + struct.pack("<I", 199)[:3])
                     + webp_chunk(b"VP8L", vp8l_header(300, 200) + b"\x00\x00\x00\x00"))

write("fuzz_image_header", {
    "rgb_3x2.png": png(3, 2),
    "grey_16x8.jpg": jpeg(16, 8),
    "sequential_fill_exif_9x9.jpg": jpeg(9, 9, sof=0xC1, extra=b"\xff\xff" + b"\xff\xe1\x00\x08Exif\x00\x00"),
    "rgb_2x2.bmp": bmp(2, 2),
    "topdown_2x3.bmp": bmp(2, -3),
    "one_1x1.gif": gif_1x1,
    "screen_3x2.gif": gif_3x2,
    "lossless_5x3.webp": webp_lossless,
    "lossy_7x4.webp": webp_lossy,
    "extended_300x200.webp": webp_extended,
})

# --- fuzz_jobs_file: jobs files as the batch mode reads them.
write("fuzz_jobs_file", {
    "simple.jobs": "# content style [style...] [-o out] [options]\n"
                   "photos/a.jpg styles/starry.jpg -o out/a.png\n"
                   "\n"
                   "photos/b.jpg styles/wave.jpg styles/scream.jpg --style-blend 0.7,0.3 --iterations 200\n",
    "quoting.jobs": "'my photo.jpg' \"style \\\"one\\\".png\" -o out\\ dir/it'\\''s.png  # trailing comment\n"
                    "\tc.png\ts.png\t--style-layers 'relu1_1,relu2_1:0.5'\r\n",
    "empty_words.jobs": "'' \"\" a#b\n",
    "line.txt": "content.png style.png --size 256 --device cuda:0",
})
print("corpus written to", CORPUS)
