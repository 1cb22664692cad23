#!/usr/bin/python3
"""
Builds the labelled face set of bench/faces/set/ (npm run bench:faces, test/image/face-recall.test.ts).

Run with Debian's python (/usr/bin/python3, python3-skimage and python3-opencv installed):
    /usr/bin/python3 bench/faces/make-set.py
It is deterministic (fixed seed), and its output is committed, so neither tests nor benches need python.

- Composed scenes: real face crops (the 100 faces of scikit-image's lfw_subset.npy, 25x25 crops from Labeled Faces in
  the Wild) pasted at several sizes, with feathered edges and the local brightness of the spot, onto real photos
  (scikit-image's sample photos) at several picture sizes; saved as JPEG like most photos on the web.
- Real photos with real faces: the astronaut and the cameraman, at full size and shrunk into other photos so that
  their faces are under 40 px in a picture under 0.5 MP.
- Face-free photos: the other sample photos, and scenes with the 100 non-face crops of lfw_subset.npy (backgrounds
  of the same LFW news photos: the hardest kind of false positive).
Labels (labels.json): for each file, its size, whether it is a composed scene, and one box per face; `turned` marks
the cameraman's face, turned about 45 degrees away (frontal-face detectors are not made for it).
"""
import json
import os

import cv2
import numpy as np

DATA = '/usr/lib/python3/dist-packages/skimage/data/'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'set')
rng = np.random.default_rng(13)

lfw = (np.load(DATA + 'lfw_subset.npy') * 255).round().astype(np.uint8)
FACES, NON_FACES = lfw[:100], lfw[100:]

# The real faces, measured by hand on the 512x512 originals.
ASTRONAUT_FACE = (180, 75, 90, 95)
CAMERA_FACE = (185, 115, 75, 90)


def grey(name):
    img = cv2.imread(DATA + name, cv2.IMREAD_GRAYSCALE)
    assert img is not None, name
    return img


def background(name, width, height):
    """A random crop of the photo with the scene's aspect ratio, resized to the scene size."""
    img = grey(name)
    h, w = img.shape
    scale = min(w / width, h / height) * rng.uniform(0.75, 1.0)
    cw, ch = int(width * scale), int(height * scale)
    x, y = rng.integers(0, w - cw + 1), rng.integers(0, h - ch + 1)
    return cv2.resize(img[y:y + ch, x:x + cw], (width, height), interpolation=cv2.INTER_AREA)


def paste(scene, crop, x, y, size):
    """Pastes `crop` as a size x size square, its edges feathered and its brightness matched to the spot."""
    interp = cv2.INTER_AREA if size < crop.shape[0] else cv2.INTER_CUBIC
    patch = cv2.resize(crop, (size, size), interpolation=interp).astype(np.float32)
    spot = scene[y:y + size, x:x + size].astype(np.float32)
    patch = np.clip(patch - patch.mean() + 0.5 * patch.mean() + 0.5 * spot.mean(), 0, 255)
    feather = max(1, size // 12)
    mask = np.zeros((size, size), np.float32)
    mask[feather:-feather, feather:-feather] = 1
    mask = cv2.GaussianBlur(mask, (0, 0), feather / 2 + 0.5)
    scene[y:y + size, x:x + size] = (mask * patch + (1 - mask) * spot).round().astype(np.uint8)


def place(width, height, sizes, taken):
    """A spot for each size that overlaps no other (with a margin), or None when the scene is too full."""
    boxes = []
    for size in sizes:
        for _ in range(200):
            x, y = int(rng.integers(0, width - size)), int(rng.integers(0, height - size))
            if all(x + size + 8 < bx or bx + bs + 8 < x or y + size + 8 < by or by + bs + 8 < y for bx, by, bs in taken + boxes):
                boxes.append((x, y, size))
                break
        else:
            raise RuntimeError('scene too full')
    return boxes


labels = {}


def save(name, img, faces, composed, turned=False):
    cv2.imwrite(os.path.join(OUT, name), img, [cv2.IMWRITE_JPEG_QUALITY, 88])
    h, w = img.shape
    boxes = [dict(zip(('x', 'y', 'width', 'height'), map(int, f))) for f in faces]
    for box in boxes:
        if turned:
            box['turned'] = True
    labels[name] = {'width': w, 'height': h, 'composed': composed, 'faces': boxes}


os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    os.remove(os.path.join(OUT, f))

BACKGROUNDS = ['coffee.png', 'rocket.jpg', 'motorcycle_left.png', 'grass.png', 'gravel.png', 'brick.png', 'chelsea.png', 'hubble_deep_field.jpg', 'coins.png', 'retina.jpg', 'page.png', 'moon.png']
SCENE_SIZES = [(640, 480), (512, 384), (800, 600), (400, 300), (320, 240), (600, 400)]
SMALL = [20, 24, 28, 32, 36, 40, 44, 48]
LARGE = [56, 64, 80, 96, 128]

# Face scenes: 14 scenes, 3 or 4 faces each, two of every three faces small.
face_order = rng.permutation(100)
used = 0
for i in range(14):
    width, height = SCENE_SIZES[i % len(SCENE_SIZES)]
    scene = background(BACKGROUNDS[i % len(BACKGROUNDS)], width, height)
    count = 3 + i % 2
    sizes = [int(rng.choice(SMALL)) if k % 3 != 2 else int(rng.choice([s for s in LARGE if s < height // 2])) for k in range(count)]
    boxes = place(width, height, sizes, [])
    for x, y, size in boxes:
        paste(scene, FACES[face_order[used]], x, y, size)
        used += 1
    save(f'scene-{i:02}.jpg', scene, [(x, y, s, s) for x, y, s in boxes], True)

# Real faces: the photos themselves, then shrunk into a bigger photo (faces of 25 to 39 px, pictures under 0.5 MP).
astronaut, camera = grey('astronaut.png'), grey('camera.png')
save('astronaut.jpg', astronaut, [ASTRONAUT_FACE], False)
save('camera.jpg', camera, [CAMERA_FACE], False, turned=True)
for name, photo, face, scale, (width, height), bg in [
    ('astronaut-small-a.jpg', astronaut, ASTRONAUT_FACE, 0.40, (640, 480), 'coffee.png'),
    ('astronaut-small-b.jpg', astronaut, ASTRONAUT_FACE, 0.30, (512, 384), 'brick.png'),
    ('astronaut-small-c.jpg', astronaut, ASTRONAUT_FACE, 0.36, (800, 600), 'rocket.jpg'),
    ('camera-small.jpg', camera, CAMERA_FACE, 0.5, (640, 480), 'grass.png'),
]:
    size = int(512 * scale)
    scene = background(bg, width, height)
    x, y = int(rng.integers(0, width - size)), int(rng.integers(0, height - size))
    scene[y:y + size, x:x + size] = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
    fx, fy, fw, fh = face
    save(name, scene, [(x + round(fx * scale), y + round(fy * scale), round(fw * scale), round(fh * scale))], False, turned=photo is camera)

# Face-free: the other photos (longest side at most 800 px), then scenes full of LFW's non-face crops.
for name in ['coffee.png', 'chelsea.png', 'rocket.jpg', 'motorcycle_left.png', 'hubble_deep_field.jpg', 'grass.png', 'gravel.png', 'brick.png', 'coins.png', 'moon.png', 'retina.jpg', 'ihc.png', 'horse.png', 'page.png', 'text.png', 'cell.png', 'color.png', 'logo.png']:
    img = grey(name)
    scale = min(1, 800 / max(img.shape))
    if scale < 1:
        img = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    save('nofaces-' + os.path.splitext(name)[0] + '.jpg', img, [], False)
order = rng.permutation(100)
for i in range(5):
    width, height = SCENE_SIZES[i]
    scene = background(BACKGROUNDS[(i + 3) % len(BACKGROUNDS)], width, height)
    sizes = [int(rng.choice(SMALL + LARGE[:2])) for _ in range(6)]
    for k, (x, y, size) in enumerate(place(width, height, sizes, [])):
        paste(scene, NON_FACES[order[(i * 6 + k) % 100]], x, y, size)
    save(f'nofaces-scene-{i:02}.jpg', scene, [], True)

with open(os.path.join(OUT, 'labels.json'), 'w') as f:
    json.dump({'source': 'bench/faces/make-set.py', 'images': labels}, f, indent=1, sort_keys=True)
    f.write('\n')
faces = [b for v in labels.values() for b in v['faces']]
print(f"{len(labels)} images, {len(faces)} faces ({sum(1 for b in faces if b['width'] <= 48)} of 20-48 px), {sum(1 for v in labels.values() if not v['faces'])} face-free")
