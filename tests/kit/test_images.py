import io

import pytest
from PIL import Image, ImageCms

from roomcraft.kit import images
from roomcraft.kit.errors import UnsupportedMediaType, ValidationFailed
from tests.kit import photos

MAX_PIXELS = 50_000_000
MAX_SIDE = 2048


def normalize(data: bytes, *, max_side: int = MAX_SIDE) -> images.NormalizedImage:
    return images.normalize_upload(data, max_pixels=MAX_PIXELS, max_side=max_side)


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def is_red(pixel: object) -> bool:
    assert isinstance(pixel, tuple)
    red, _, blue = pixel
    return bool(red > 180 and blue < 90)


def assert_no_metadata(data: bytes) -> None:
    image = reopen(data)
    assert not image.getexif()
    assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info)
    assert b"Exif" not in data
    assert b"PhoneMaker" not in data


class TestNormalizeUpload:
    def test_phone_photo_is_turned_upright_and_stripped_of_exif_and_gps(self) -> None:
        source = photos.phone_jpeg((400, 300), orientation=6)
        assert Image.open(io.BytesIO(source)).getexif().get_ifd(0x8825)  # GPS is really there

        result = normalize(source)

        assert (result.width, result.height) == (300, 400)
        assert (result.content_type, result.extension) == ("image/jpeg", "jpg")
        assert_no_metadata(result.data)
        stored = reopen(result.data)
        assert stored.format == "JPEG"
        assert stored.size == (300, 400)
        # Orientation 6 turns the picture clockwise: the red top-left quarter ends top-right.
        assert is_red(stored.convert("RGB").getpixel((250, 50)))
        assert not is_red(stored.convert("RGB").getpixel((50, 50)))

    def test_heic_is_decoded_and_stored_as_jpeg(self) -> None:
        result = normalize(photos.heic((320, 240)))

        assert result.content_type == "image/jpeg"
        assert reopen(result.data).format == "JPEG"
        assert (result.width, result.height) == (320, 240)
        assert_no_metadata(result.data)

    def test_png_with_real_transparency_stays_png(self) -> None:
        result = normalize(photos.png(alpha=True))

        assert (result.content_type, result.extension) == ("image/png", "png")
        stored = reopen(result.data)
        assert stored.format == "PNG"
        assert stored.mode == "RGBA"

    def test_png_with_an_opaque_alpha_channel_becomes_jpeg(self) -> None:
        result = normalize(photos.png(alpha=False))

        assert result.content_type == "image/jpeg"

    def test_webp_is_accepted(self) -> None:
        result = normalize(photos.webp((300, 200)))

        assert (result.content_type, result.width, result.height) == ("image/jpeg", 300, 200)

    def test_long_side_is_capped_and_the_aspect_ratio_kept(self) -> None:
        result = normalize(photos.jpeg((4000, 3000)))

        assert (result.width, result.height) == (2048, 1536)
        assert reopen(result.data).size == (2048, 1536)

    def test_large_jpeg_is_decoded_at_reduced_scale_to_the_cap(self) -> None:
        result = normalize(photos.jpeg((6000, 2000)), max_side=1000)

        assert (result.width, result.height) == (1000, 333)

    def test_small_image_is_not_enlarged(self) -> None:
        result = normalize(photos.jpeg((120, 80)))

        assert (result.width, result.height) == (120, 80)

    def test_colour_profile_is_applied_not_kept(self) -> None:
        source = io.BytesIO()
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        Image.new("RGB", (50, 50), (10, 200, 30)).save(source, format="JPEG", icc_profile=srgb)

        result = normalize(source.getvalue())

        assert "icc_profile" not in reopen(result.data).info

    def test_sixteen_bit_grayscale_keeps_its_tones(self) -> None:
        source = io.BytesIO()
        Image.new("I;16", (40, 40), 32768).save(source, format="PNG")

        result = normalize(source.getvalue())

        value = reopen(result.data).convert("L").getpixel((20, 20))
        assert isinstance(value, int)
        assert 120 <= value <= 136

    @pytest.mark.parametrize(
        "data",
        [
            pytest.param(photos.gif(), id="gif"),
            pytest.param(photos.SVG, id="svg"),
            pytest.param(b"%PDF-1.7\n1 0 obj <<>> endobj\n", id="pdf"),
            pytest.param(b"just some text", id="text"),
            pytest.param(b"", id="empty"),
        ],
    )
    def test_other_formats_are_unsupported(self, data: bytes) -> None:
        with pytest.raises(UnsupportedMediaType) as raised:
            normalize(data)
        assert "JPEG, PNG, WebP or HEIC" in raised.value.message

    def test_truncated_jpeg_is_damaged(self) -> None:
        with pytest.raises(ValidationFailed) as raised:
            normalize(photos.truncated_jpeg())
        assert raised.value.message == "The image is damaged or incomplete."

    # Above our cap only; above Pillow's warning (89 MP); above Pillow's own refusal (179 MP).
    @pytest.mark.parametrize("side", [8_000, 10_000, 30_000, 65_535])
    def test_decompression_bomb_is_refused_from_its_header(self, side: int) -> None:
        bomb = photos.png_bomb(side, side)
        assert len(bomb) < 20_000

        with pytest.raises(images.ImageTooLarge) as raised:
            normalize(bomb)
        assert raised.value.status_code == 400
        assert "megapixels" in raised.value.message

    def test_image_over_the_pixel_cap_but_under_pillows_guard_is_refused(self) -> None:
        # 8000×8000 = 64 MP: above our 50 MP, below Pillow's own warning threshold (89 MP).
        with pytest.raises(images.ImageTooLarge) as raised:
            normalize(photos.png_bomb(8000, 8000))
        assert raised.value.message == (
            "The image is 8000×8000 pixels; at most 50 megapixels are allowed."
        )

    def test_pixel_cap_is_the_callers(self) -> None:
        with pytest.raises(images.ImageTooLarge):
            images.normalize_upload(photos.jpeg((400, 300)), max_pixels=100_000, max_side=2048)


class TestReencodeOutput:
    def test_output_becomes_a_clean_jpeg_of_the_same_size(self) -> None:
        result = images.reencode_output(
            photos.phone_jpeg((640, 480), orientation=1), max_pixels=MAX_PIXELS
        )

        assert (result.content_type, result.width, result.height) == ("image/jpeg", 640, 480)
        assert_no_metadata(result.data)

    def test_transparent_output_is_flattened_to_jpeg(self) -> None:
        result = images.reencode_output(photos.png(alpha=True), max_pixels=MAX_PIXELS)

        assert reopen(result.data).mode == "RGB"

    def test_output_that_is_not_an_image_is_refused(self) -> None:
        with pytest.raises(UnsupportedMediaType):
            images.reencode_output(b"<html>rate limited</html>", max_pixels=MAX_PIXELS)


class TestThumbnailWebp:
    def test_thumbnail_is_webp_within_the_box(self) -> None:
        thumb = images.thumbnail_webp(photos.jpeg((1600, 1200)), max_side=512)

        image = reopen(thumb)
        assert image.format == "WEBP"
        assert image.size == (512, 384)


class TestDimensions:
    def test_dimensions_come_from_the_header(self) -> None:
        assert images.dimensions(photos.png((300, 200))) == (300, 200)
