"""Images in and out as fusion users have them: files, folders of pairs and cards of shots.

- :mod:`defusion.io.images`: reading images (8/16-bit, grey or colour, EXIF-upright, clear errors).
  Its steps: :mod:`~defusion.io.pixel_bound` (``--max-pixels`` and its error), :mod:`~defusion.io.frames`
  (animated images' and multi-page TIFFs' frames counted), :mod:`~defusion.io.orientation` (EXIF),
  :mod:`~defusion.io.tiff` (TIFFs tifffile decodes), :mod:`~defusion.io.pillow_decoding` (the rest, by Pillow
  or OpenCV), :mod:`~defusion.io.levels` and :mod:`~defusion.io.float_pixels` (stored values as 8/16-bit
  levels; float readings and stretch), :mod:`~defusion.io.probes` (size, format and float span, unread).
- :mod:`defusion.io.writing`: ``write_image`` (8/16-bit, with metadata), atomic writes, output path checks.
- :mod:`defusion.io.atomic`: ``atomic_path``, the one way every output (images, weights, exports) replaces a file.
- :mod:`defusion.io.eight_bits`: pixels in 8 bits by one rounding rule (JPEG, video frames, display).
- :mod:`defusion.io.unit_floats`, :mod:`defusion.io.float_scales`: float pixels' rules, in [0, 1] (the fusion's
  and the writer's) and on the scale a metric reads them (0..1 or 0..255), with their messages.
- :mod:`defusion.io.display`: 16-bit and float images in 8 bits to be shown (grids and contact sheets).
- :mod:`defusion.io.sheets`: contact sheets, images side by side, labelled (``--compare``, bench's grids).
- :mod:`defusion.io.formats`: the formats written and read and the pixel bound, without their libraries.
- :mod:`defusion.io.heif`, :mod:`defusion.io.raw`: HEIC/HEIF and camera raw files, through optional extras.
- :mod:`defusion.io.jpeg`: a JPEG's quality read from its tables, and an image passed through that encoding.
- :mod:`defusion.io.metadata`: colour profile and EXIF carried from the sources to the fused image.
- :mod:`defusion.io.arrays`: tensors as NumPy arrays, and the test for 8-bit values stored in 16 bits.
- :mod:`defusion.io.pairs`: sources matched across folders by file stem (the benchmarks' layout).
- :mod:`defusion.io.shots`: a folder of shots split into its brackets or focus stacks.
- :mod:`defusion.io.resize`: resizing that keeps an image's dtype and layout (``--resize``).
- :mod:`defusion.io.notes`: what reading inputs tells the user, on stderr.
- :mod:`defusion.io.errors`: the readers' and writer's errors, without their dependencies (fast ``--help``).
"""
